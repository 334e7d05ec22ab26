package onnxexport

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/fmkit/fmkit/models"
	"github.com/fmkit/fmkit/pkg/train"
)

// TestReexportDefaultModel imports the embedded default model and exports it again with
// the options its metadata records: the bytes must be the file's, so that the exporter's
// output (and `make default-model`) stays byte-identical across refactors.
func TestReexportDefaultModel(t *testing.T) {
	m, info, err := Import(models.Default)
	if err != nil {
		t.Fatal(err)
	}
	opt := ExportOptions{Opset: int(info.Opset), DocString: info.DocString,
		ProducerVersion: info.ProducerVersion, GraphName: info.GraphName, Metadata: map[string]string{}}
	for k, v := range info.Metadata {
		switch k {
		case MetaClassNames:
			if opt.ClassNames, err = info.ClassNames(); err != nil {
				t.Fatal(err)
			}
		case MetaPreprocessing:
			var p Preprocessing
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				t.Fatal(err)
			}
			opt.Preprocessing = &p
		default:
			opt.Metadata[k] = v
		}
	}
	b, err := Export(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, models.Default) {
		t.Fatalf("re-exporting models/fmnist.onnx gives %d bytes (sha256 %x), the file has %d (sha256 %x)",
			len(b), sha256.Sum256(b), len(models.Default), sha256.Sum256(models.Default))
	}
}

// exportGolden holds the SHA-256 of Export's bytes for testModels and four small models
// (no softmax, a separate softmax layer, a standalone ReLU, a lone softmax) under each option set,
// recorded before the format moved to pkg/onnx: every export must keep its bytes.
var exportGolden = map[string]string{
	"f-d10:linear/classes15":                "21c895d9b21f23572de00a5c27da09456233193d0fed23691e1f07bd3c2bdf31",
	"sm/default":                            "79a508c508f2c7e41e201c1fbc2063fcbd9c384d21cb41c99365063f003712d6",
	"sm/logits17":                           "8c74a1e6bb06b911ddc225287fb210f8abcfeff2b0e1cc63056069e7cc72a623",
	"sm/classes15":                          "d6bb4c19e7188d2688cd8f57b1fd523da7000f792bd71dcc1ea64429a0e4f78b",
	"book/classes15":                        "393713a32976fe8dc21986d36c5d1ac830c006214526dd2572ce1688ae08d634",
	"book/default":                          "7e41a4001373c765c9155ba08304e8065c42dbb1f4eb75862e9c051bb40fea58",
	"book/logits17":                         "f9760b655b7b72b579b4800f1e6a63f4def8b6e3a274d6d6dfcbdc1e703759c6",
	"c4k3:linear-f-d10:linear-sm/classes15": "5b76c8d5ae37336b68f134028e908017d68db87c201ef79049c64156729dc9d5",
	"c4k3:linear-f-d10:linear-sm/default":   "c37096de7540caab52ebc380149d6e8d1ddd303ad805eb2b2e2569a1c271a56f",
	"c4k3:linear-f-d10:linear-sm/logits17":  "f7483ca9d17782fcca74bef74ef18a6161586a6f7b6b6bd0a9f890cf20d16dae",
	"f-d10:linear/default":                  "94f8dae90af1b40007850e848e8d6f6b63775d229a13d3aae4ddf42383d91cba",
	"mixed/classes15":                       "baafce9a8559627953c7ede66f9343f9350b485e0dcce0b31f6130d990d2b0a9",
	"mixed/default":                         "8552d8ce63976f5bd5507aa80d3cf900dce160fd030586e7c41189cf64cc1aec",
	"mixed/logits17":                        "dbf3910a69b5183b59d06277bd2032f98880298e9f66fc9b7dbe1d2bb73c9f6c",
	"r-f-d10/classes15":                     "a1fccfce8990cebd28324a786678400ab2de356d59fc224d21e64c198b592cf7",
	"r-f-d10/default":                       "306e0a8d3d448ef11c747f2cd1b209da899dd31caf1e81b3061cbe24f9c629ff",
	"r-f-d10/logits17":                      "7ece5bc8622a719e406a91fd5ebb5528059c312bdf6e841d6fdbdd60571ca29e",
	"small/classes15":                       "14f84f4e73713f39a978916ceaeff9a0ac08eca549ebc3125188f40d28a43b6f",
	"small/default":                         "305b573d2861f90c1a5c8383103839cef1e607cb83681031c1e511824d5d0038",
	"small/logits17":                        "3dc060725037924997a406fd3fa9a2bbe2ec6bd75176363432f3d3d98aaa606d",
}

func TestExportBytesUnchanged(t *testing.T) {
	opts := map[string]ExportOptions{
		"default": {},
		"logits17": {Logits: true, Opset: 17, GraphName: "g", ProducerVersion: "9",
			Metadata: map[string]string{"recipe": "book", "test_accuracy": "0.9"}},
		"classes15": {Opset: 15, ClassNames: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"},
			Preprocessing: &Preprocessing{Scale: 2, Layout: "NCHW", Height: 28, Width: 28}, DocString: "doc"},
	}
	models := testModels(t)
	for spec, seed := range map[string]uint64{"f-d10:linear": 5, "c4k3:linear-f-d10:linear-sm": 6, "r-f-d10": 7} {
		m, err := train.BuildModel(spec, train.Shape{1, 28, 28}, train.NewRNG(seed))
		if err != nil {
			t.Fatal(err)
		}
		models[spec] = m
	}
	lone, err := train.BuildModel("sm", train.Shape{10}, train.NewRNG(8)) // the identity path for Logits
	if err != nil {
		t.Fatal(err)
	}
	models["sm"] = lone
	for mname, m := range models {
		for oname, opt := range opts {
			name := mname + "/" + oname
			if opt.Logits && !endsInSoftmax(m) {
				continue // refused: the model's only output is already its logits
			}
			b, err := Export(m, opt)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sum := sha256.Sum256(b)
			got := hex.EncodeToString(sum[:])
			if want, ok := exportGolden[name]; !ok {
				t.Errorf("%s: no golden hash; got %s", name, got)
			} else if got != want {
				t.Errorf("%s: export bytes changed: sha256 %s, want %s", name, got, want)
			}
		}
	}
}

// TestBridgeHoldsNoProtobuf: the bridge maps the IR, never the protobuf; the generated
// types stay behind pkg/onnx.
func TestBridgeHoldsNoProtobuf(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/fmkit/fmkit/pkg/onnx") {
		t.Fatalf("go list -deps does not list pkg/onnx: %q", deps)
	}
	// pkg/onnx links internal/onnxpb; the bridge's own imports must not name it.
	out, err = exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "google.golang.org/protobuf") || imp == "github.com/fmkit/fmkit/internal/onnxpb" {
			t.Errorf("pkg/onnxexport imports %s", imp)
		}
	}
}
