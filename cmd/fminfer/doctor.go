package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/pkg/train"

	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// doctorReport is what fminfer doctor finds, as --json prints it.
type doctorReport struct {
	Go         string                    `json:"go"`
	Cgo        bool                      `json:"cgo"`
	Library    *libraryReport            `json:"onnxruntime,omitempty"`
	LibraryErr string                    `json:"onnxruntime_error,omitempty"`
	Providers  map[string]providerReport `json:"providers"`
	Data       string                    `json:"data,omitempty"`
	DataErr    string                    `json:"data_error,omitempty"`
	Model      string                    `json:"model"`
	// ModelFormat is "onnx" or "fmk" (fmtrain's native format).
	ModelFormat string `json:"model_format"`
	ModelBytes  int    `json:"model_bytes"`
	ModelSHA256 string `json:"model_sha256"`
	ModelErr    string `json:"model_error,omitempty"`
	Opset       int64  `json:"opset,omitempty"`
	// Metadata holds the model's metadata, each value as JSON where it is JSON (a number,
	// an object, a list), else as a string.
	Metadata map[string]json.RawMessage `json:"metadata,omitempty"`
	metaText map[string]string
}

// libraryReport is the onnxruntime library loaded.
type libraryReport struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Source  string `json:"source"` // where discovery found it
}

// providerReport says whether an execution provider can run the model, and if not, why.
type providerReport struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
}

// maxReason bounds a provider's reason: onnxruntime's own messages run to hundreds of
// characters of source paths; the first line, cut, says enough.
const maxReason = 160

// providerReason says in a short line why a provider is not available.
func providerReason(err error) string {
	var pe *fmrt.ProviderError
	if errors.As(err, &pe) && pe.Missing != "" {
		return fmt.Sprintf("%s is missing (CUDA needs an onnxruntime 1.24 GPU build with its provider libraries beside libonnxruntime.so.1, CUDA 12 and cuDNN 9)", pe.Missing)
	}
	s := firstLine(errors.New(cli.Message(err)))
	if len(s) > maxReason {
		s = s[:maxReason] + "..."
	}
	return s
}

// metadataJSON turns a metadata value into JSON: itself where it is a JSON number, object
// or list (fmtrain writes the recipe and the class names as JSON), else a JSON string.
func metadataJSON(v string) json.RawMessage {
	t := strings.TrimSpace(v)
	if t != "" && json.Valid([]byte(t)) && (strings.ContainsAny(t[:1], "{[-0123456789")) {
		return json.RawMessage(t)
	}
	b, _ := json.Marshal(v)
	return b
}

func runDoctor(args []string, stdout, stderr io.Writer) error {
	var eng engineOptions
	fs := newFlags("fminfer doctor", stdout, "Usage: fminfer doctor [flags]\n\nReports the onnxruntime library found, the execution providers available, where the\ndataset is (its checksums verified now), and the model's format and metadata.")
	eng.register(fs, false)
	data := fs.String("data", "", "the Fashion-MNIST directory `DIR` (default: discovered)")
	asJSON := fs.Bool("json", false, "print JSON (docs/json.md)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	r := doctorReport{Go: runtime.Version(), Cgo: cgoEnabled, Providers: map[string]providerReport{}, ModelFormat: "onnx"}
	model, name, err := eng.modelBytes()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(model)
	r.Model, r.ModelBytes, r.ModelSHA256 = name, len(model), hex.EncodeToString(sum[:])
	gopts, err := eng.gate.options()
	if err != nil {
		return err
	}
	var meta map[string]string
	if isNativeModel(model) {
		r.ModelFormat = "fmk"
		if _, c, err := train.DecodeModel(name, model, nil); err != nil {
			r.ModelErr = cli.Message(err)
		} else {
			meta = map[string]string{"arch": c.Arch}
			for k, v := range c.Extra {
				meta[k] = v
			}
		}
	} else if _, info, err := onnxexport.ImportWith(model, gopts); err != nil {
		r.ModelErr = cli.Message(err)
	} else {
		meta, r.Opset = info.Metadata, info.Opset
	}
	if len(meta) > 0 {
		r.metaText = meta
		r.Metadata = map[string]json.RawMessage{}
		for k, v := range meta {
			r.Metadata[k] = metadataJSON(v)
		}
	}
	noLibrary := providerReport{Reason: "no onnxruntime library"}
	switch lib, err := fmrt.LoadLibrary(eng.library); {
	case err != nil:
		r.LibraryErr = cli.Message(err)
		r.Providers["cpu"], r.Providers["cuda"] = noLibrary, noLibrary
	case r.ModelFormat == "fmk":
		r.Library = &libraryReport{lib.Path, lib.Version, lib.Source}
		no := providerReport{Reason: "onnxruntime cannot read a native .fmk model"}
		r.Providers["cpu"], r.Providers["cuda"] = no, no
	default:
		r.Library = &libraryReport{lib.Path, lib.Version, lib.Source}
		for _, pv := range []fmrt.Provider{{Kind: fmrt.ProviderCPU}, {Kind: fmrt.ProviderCUDA, DeviceID: eng.provider.DeviceID}} {
			p, err := fmrt.NewORT(model, fmrt.ORTOptions{Gate: gopts.Check, LibraryPath: eng.library, Provider: pv, Warn: io.Discard, ModelName: name})
			if err != nil {
				r.Providers[pv.Kind.String()] = providerReport{Reason: providerReason(err)}
				continue
			}
			r.Providers[pv.Kind.String()] = providerReport{Available: true}
			p.Close()
		}
	}
	r.Providers["native"] = providerReport{Available: true}
	// Reverify: doctor hashes every dataset file whatever the verification
	// stamps say, so a file changed behind a stamp's back is found here.
	if dir, err := fmnist.Reverify(*data); err != nil {
		r.DataErr = cli.Message(err)
	} else {
		r.Data = dir
	}
	if *asJSON {
		return cli.WriteJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "build:        %s, cgo %v\n", r.Go, r.Cgo)
	if r.Library != nil {
		fmt.Fprintf(stdout, "onnxruntime:  %s at %s (found via %s)\n", r.Library.Version, r.Library.Path, r.Library.Source)
	} else {
		fmt.Fprintf(stdout, "onnxruntime:  not available: %s\n", r.LibraryErr)
	}
	fmt.Fprintln(stdout, "providers:")
	for _, k := range sortedKeys(r.Providers) {
		p := r.Providers[k]
		if p.Available {
			fmt.Fprintf(stdout, "  %-7s available\n", k)
		} else {
			fmt.Fprintf(stdout, "  %-7s unavailable: %s\n", k, p.Reason)
		}
	}
	if r.Data != "" {
		fmt.Fprintf(stdout, "dataset:      %s (checksums verified now)\n", userpath.Show(r.Data))
	} else {
		fmt.Fprintf(stdout, "dataset:      not usable: %s\n", userpath.Sanitize(r.DataErr))
	}
	fmt.Fprintf(stdout, "model:        %s (%s), %d bytes, sha256 %s\n", r.Model, r.ModelFormat, r.ModelBytes, r.ModelSHA256)
	if r.ModelErr != "" {
		fmt.Fprintf(stdout, "  error: %s\n", r.ModelErr)
	} else {
		if r.Opset != 0 {
			fmt.Fprintf(stdout, "  opset %d\n", r.Opset)
		}
		for _, k := range sortedKeys(r.metaText) {
			fmt.Fprintf(stdout, "  %s: %s\n", k, r.metaText[k])
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
