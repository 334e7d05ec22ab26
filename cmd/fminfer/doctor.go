package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"sort"

	"github.com/fmkit/fmkit/internal/userpath"
	"github.com/fmkit/fmkit/pkg/fmnist"
	"github.com/fmkit/fmkit/pkg/onnxexport"
	fmrt "github.com/fmkit/fmkit/pkg/runtime"
)

// doctorReport is what fminfer doctor finds.
type doctorReport struct {
	Go          string            `json:"go"`
	Cgo         bool              `json:"cgo"`
	Library     *fmrt.Library     `json:"onnxruntime,omitempty"`
	LibraryErr  string            `json:"onnxruntime_error,omitempty"`
	Providers   map[string]string `json:"providers"`
	Data        string            `json:"data,omitempty"`
	DataErr     string            `json:"data_error,omitempty"`
	Model       string            `json:"model"`
	ModelBytes  int               `json:"model_bytes"`
	ModelSHA256 string            `json:"model_sha256"`
	ModelErr    string            `json:"model_error,omitempty"`
	Opset       int64             `json:"opset,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

func runDoctor(args []string, stdout, stderr io.Writer) error {
	var eng engineOptions
	fs := newFlags("fminfer doctor", stdout, "Usage: fminfer doctor [flags]\n\nReports the onnxruntime library found, the execution providers available, where the\ndataset is, and the model's metadata.")
	eng.register(fs, false)
	data := fs.String("data", "", "Fashion-MNIST directory (default: discovered)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	r := doctorReport{Go: runtime.Version(), Cgo: cgoEnabled, Providers: map[string]string{}}
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
	if _, info, err := onnxexport.ImportWith(model, gopts); err != nil {
		r.ModelErr = err.Error()
	} else {
		r.Metadata, r.Opset = info.Metadata, info.Opset
	}
	if lib, err := fmrt.LoadLibrary(eng.library); err != nil {
		r.LibraryErr = err.Error()
		r.Providers["cpu"] = "unavailable: no onnxruntime library"
		r.Providers["cuda"] = "unavailable: no onnxruntime library"
	} else {
		r.Library = &lib
		for _, pv := range []fmrt.Provider{{Kind: fmrt.ProviderCPU}, {Kind: fmrt.ProviderCUDA, DeviceID: eng.provider.DeviceID}} {
			p, err := fmrt.NewORT(model, fmrt.ORTOptions{Gate: gopts.Check, LibraryPath: eng.library, Provider: pv, Warn: io.Discard, ModelName: name})
			if err != nil {
				r.Providers[pv.Kind.String()] = "unavailable: " + firstLine(err)
				continue
			}
			r.Providers[pv.Kind.String()] = "available"
			p.Close()
		}
	}
	r.Providers["native"] = "available"
	// Reverify: doctor hashes every dataset file whatever the verification
	// stamps say, so a file changed behind a stamp's back is found here.
	if dir, err := fmnist.Reverify(*data); err != nil {
		r.DataErr = err.Error()
	} else {
		r.Data = dir
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "build:        %s, cgo %v\n", r.Go, r.Cgo)
	if r.Library != nil {
		fmt.Fprintf(stdout, "onnxruntime:  %s at %s (found via %s)\n", r.Library.Version, r.Library.Path, r.Library.Source)
	} else {
		fmt.Fprintf(stdout, "onnxruntime:  not available: %s\n", r.LibraryErr)
	}
	fmt.Fprintln(stdout, "providers:")
	for _, k := range sortedKeys(r.Providers) {
		fmt.Fprintf(stdout, "  %-7s %s\n", k, r.Providers[k])
	}
	if r.Data != "" {
		fmt.Fprintf(stdout, "dataset:      %s (checksums verified now)\n", userpath.Show(r.Data))
	} else {
		fmt.Fprintf(stdout, "dataset:      not usable: %s\n", userpath.Sanitize(r.DataErr))
	}
	fmt.Fprintf(stdout, "model:        %s, %d bytes, sha256 %s\n", r.Model, r.ModelBytes, r.ModelSHA256)
	if r.ModelErr != "" {
		fmt.Fprintf(stdout, "  error: %s\n", r.ModelErr)
	} else {
		fmt.Fprintf(stdout, "  opset %d\n", r.Opset)
		for _, k := range sortedKeys(r.Metadata) {
			fmt.Fprintf(stdout, "  %s: %s\n", k, r.Metadata[k])
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
