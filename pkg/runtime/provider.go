package runtime

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ProviderKind names an onnxruntime execution provider choice.
type ProviderKind uint8

// The provider kinds. The zero value is ProviderCPU.
const (
	// ProviderCPU runs on onnxruntime's default CPU execution provider.
	ProviderCPU ProviderKind = iota
	// ProviderCUDA runs on an NVIDIA GPU; creation fails with a *ProviderError when it cannot.
	ProviderCUDA
	// ProviderAuto tries CUDA and falls back to the CPU with one warning line.
	ProviderAuto
)

// String returns "cpu", "cuda" or "auto".
func (k ProviderKind) String() string {
	switch k {
	case ProviderCPU:
		return "cpu"
	case ProviderCUDA:
		return "cuda"
	case ProviderAuto:
		return "auto"
	}
	return fmt.Sprintf("ProviderKind(%d)", uint8(k))
}

// maxDeviceID bounds the device id accepted by ParseProvider; no machine has more GPUs.
const maxDeviceID = 1 << 16

// Provider selects an execution provider and, for CUDA, the GPU. The zero value is the CPU.
//
// *Provider implements flag.Value and pflag.Value, so it can be a command-line flag directly:
//
//	var p runtime.Provider
//	fs.Var(&p, "provider", "execution provider: cpu, cuda[:N] or auto[:N]")
type Provider struct {
	Kind ProviderKind
	// DeviceID is the CUDA device ordinal (cuda and auto only; 0 is the first GPU).
	DeviceID int
}

// ParseProvider parses "cpu", "cuda", "cuda:N", "auto" or "auto:N" (N a CUDA device id,
// default 0), ignoring case and surrounding space.
func ParseProvider(s string) (Provider, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	name, dev, hasDev := strings.Cut(t, ":")
	var p Provider
	switch name {
	case "cpu":
		p.Kind = ProviderCPU
	case "cuda":
		p.Kind = ProviderCUDA
	case "auto":
		p.Kind = ProviderAuto
	default:
		return Provider{}, fmt.Errorf("runtime: unknown execution provider %q: want cpu, cuda, cuda:N, auto or auto:N", s)
	}
	if !hasDev {
		return p, nil
	}
	if p.Kind == ProviderCPU {
		return Provider{}, fmt.Errorf("runtime: execution provider %q: cpu takes no device id", s)
	}
	id, err := strconv.Atoi(dev)
	if err != nil || id < 0 || id > maxDeviceID || dev[0] == '+' {
		return Provider{}, fmt.Errorf("runtime: execution provider %q: device id %q is not a number from 0 to %d", s, dev, maxDeviceID)
	}
	p.DeviceID = id
	return p, nil
}

// String returns the form ParseProvider reads back: "cpu", "cuda:N" or "auto:N".
func (p Provider) String() string {
	if p.Kind == ProviderCPU {
		return "cpu"
	}
	return fmt.Sprintf("%s:%d", p.Kind, p.DeviceID)
}

// Set parses s into p (flag.Value).
func (p *Provider) Set(s string) error {
	v, err := ParseProvider(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Type returns "provider" (pflag.Value).
func (p *Provider) Type() string { return "provider" }

// ProviderError reports that an execution provider could not be used. The CLI maps it to an
// exit code of its own; ProviderAuto never returns it (it falls back to the CPU instead).
type ProviderError struct {
	// Provider is the provider requested.
	Provider Provider
	// Missing names what is missing when onnxruntime's message names a shared library
	// (e.g. "libonnxruntime_providers_shared.so", "libcudnn.so.9"); empty when it does not.
	Missing string
	// Err is onnxruntime's error.
	Err error
	// sessionFailed: the provider was set up, but the session failed to build with it.
	sessionFailed bool
}

// Error implements error.
func (e *ProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "runtime: execution provider %s is not available", e.Provider)
	if e.Missing != "" {
		fmt.Fprintf(&b, ": %s is missing", e.Missing)
	}
	b.WriteString(" (CUDA needs an onnxruntime 1.24 GPU build with libonnxruntime_providers_cuda.so and" +
		" libonnxruntime_providers_shared.so beside libonnxruntime.so.1, CUDA 12 and cuDNN 9; or use --provider cpu)")
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying onnxruntime error.
func (e *ProviderError) Unwrap() error { return e.Err }

// Shared-library file names in onnxruntime's error messages, and the one dlopen could not open.
var (
	sharedLibRE     = regexp.MustCompile(`lib[A-Za-z0-9_+\-]+\.so(?:\.[0-9]+)*`)
	cannotOpenLibRE = regexp.MustCompile(`(lib[A-Za-z0-9_+\-]+\.so(?:\.[0-9]+)*): cannot open shared object file`)
)

// missingLibrary names the shared library msg blames: the one dlopen could not open when msg
// quotes dlerror (e.g. "libcudnn.so.9: cannot open shared object file", a dependency of the
// CUDA provider), else the first library named, else "".
func missingLibrary(msg string) string {
	if m := cannotOpenLibRE.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return sharedLibRE.FindString(msg)
}
