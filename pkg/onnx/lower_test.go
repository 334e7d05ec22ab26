package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fmkit/fmkit/internal/onnxpb"
)

// TestLowerErrors edits the tiny model one way at a time; each edit must give the error
// kind and name the node, op and attribute at fault.
func TestLowerErrors(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(m *onnxpb.ModelProto)
		unsupported bool
		node, op    string
		attr        string
	}{
		{"conv group 0", func(m *onnxpb.ModelProto) {
			m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, attrInt("group", 0))
		}, false, `"conv1"`, "Conv", "group"},
		{"conv pads odd", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Attribute[2] = attrInts("pads", 0, 0, 0) },
			false, `"conv1"`, "Conv", "pads"},
		{"conv strides type", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Attribute[1] = attrInt("strides", 1) },
			false, `"conv1"`, "Conv", "strides"},
		{"bad auto_pad", func(m *onnxpb.ModelProto) {
			m.Graph.Node[2].Attribute = append(m.Graph.Node[2].Attribute, attrString("auto_pad", "SAME"))
		}, false, `"pool1"`, "MaxPool", "auto_pad"},
		{"maxpool storage_order", func(m *onnxpb.ModelProto) {
			m.Graph.Node[2].Attribute = append(m.Graph.Node[2].Attribute, attrInt("storage_order", 1))
		}, true, `"pool1"`, "MaxPool", "storage_order"},
		{"maxpool indices", func(m *onnxpb.ModelProto) { m.Graph.Node[2].Output = append(m.Graph.Node[2].Output, "idx") },
			true, `"pool1"`, "MaxPool", "output 1"},
		{"maxpool no kernel", func(m *onnxpb.ModelProto) { m.Graph.Node[2].Attribute = m.Graph.Node[2].Attribute[1:] },
			false, `"pool1"`, "MaxPool", "kernel_shape"},
		{"unknown attribute", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = append(m.Graph.Node[1].Attribute, attrInt("alpha", 1))
		}, false, `"relu1"`, "Relu", "alpha"},
		{"gemm transA 2", func(m *onnxpb.ModelProto) {
			m.Graph.Node[4].Attribute = append(m.Graph.Node[4].Attribute, attrInt("transA", 2))
		}, false, `"dense"`, "Gemm", "transA"},
		{"unnamed unknown op", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].OpType = proto.String("HardSigmoid")
			m.Graph.Node[1].Name = nil
		}, true, "#1", "HardSigmoid", ""},
		{"undefined input", func(m *onnxpb.ModelProto) { m.Graph.Node[3].Input[0] = "nowhere" },
			false, `"flatten"`, "Flatten", "input 0"},
		{"output defined twice", func(m *onnxpb.ModelProto) { m.Graph.Node[3].Output[0] = "relu1.out" },
			false, `"flatten"`, "Flatten", "output 0"},
		{"opset 19", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(19) },
			true, "model", "", "opset_import"},
		{"opset 0", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(0) },
			true, "model", "", "opset_import"},
		{"opset 6 negative flatten axis", func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(6)
			m.Graph.Node[3].Attribute = append(m.Graph.Node[3].Attribute, attrInt("axis", -1))
		}, false, `"flatten"`, "Flatten", "axis"},
		{"opset 6 storage_order", func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(6)
			m.Graph.Node[2].Attribute = append(m.Graph.Node[2].Attribute, attrInt("storage_order", 0))
		}, false, `"pool1"`, "MaxPool", "storage_order"},
		{"other domain", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Domain = proto.String("com.microsoft") },
			true, `"relu1"`, "Relu", "domain"},
		{"softmax axis", func(m *onnxpb.ModelProto) { m.Graph.Node[5].Attribute[0] = attrFloat("axis", 1) },
			false, `"softmax"`, "Softmax", "axis"},
	}
	for _, tc := range tests {
		m := tinyModel(1)
		tc.edit(m)
		_, err := lowerModel(m)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		var node, op, attr string
		var ue *UnsupportedError
		var me *InvalidError
		switch {
		case errors.As(err, &ue):
			node, op, attr = ue.Node, ue.Op, ue.Attribute
		case errors.As(err, &me):
			node, op, attr = me.Node, me.Op, me.Attribute
		default:
			t.Errorf("%s: untyped error %v", tc.name, err)
			continue
		}
		if errors.Is(err, ErrUnsupported) != tc.unsupported || node != tc.node || op != tc.op || attr != tc.attr {
			t.Errorf("%s: %v: got node %s op %s attr %q unsupported %v; want %s %s %q %v", tc.name, err,
				node, op, attr, errors.Is(err, ErrUnsupported), tc.node, tc.op, tc.attr, tc.unsupported)
		}
	}
}

// TestInferShapesRejectsBadInput checks shape errors found at inference, not lowering.
func TestInferShapesRejectsBadInput(t *testing.T) {
	b, _ := encodeModel(tinyModel(1))
	g, err := DecodeModel(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range [][]int64{{1, 2, 28, 28}, {1, 1, 28}, {1, 1, 2, 2}} {
		if _, err := g.InferShapes(map[string][]int64{"input": shape}); err == nil {
			t.Errorf("input %v: no error", shape)
		}
	}
	if _, err := g.InferShapes(nil); err == nil {
		t.Errorf("symbolic batch without a concrete shape: no error")
	}
}

// FuzzDecodeModel decodes arbitrary bytes as a model and lowers it; it must never panic
// nor allocate from unchecked sizes. When lowering succeeds and the inputs have small
// static shapes, it also infers shapes.
func FuzzDecodeModel(f *testing.F) {
	seeds := []string{filepath.Join("..", "..", "testdata", "onnx", "tiny.onnx")}
	for _, name := range []string{"test_conv_with_strides_and_asymmetric_padding", "test_maxpool_2d_ceil",
		"test_gemm_all_attributes", "test_reshape_allowzero_reordered", "test_softmax_axis_0", "test_constant",
		"test_dropout_default_mask_ratio", "test_batchnorm_epsilon", "test_constant_pad", "test_shape_start_1_end_negative_1",
		"test_gather_negative_indices", "test_unsqueeze_negative_axes", "test_squeeze_negative_axes", "test_concat_3d_axis_negative_2",
		"test_transpose_all_permutations_4", "test_clip_splitbounds", "test_logsoftmax_axis_1", "test_leakyrelu", "test_elu",
		"test_globalaveragepool", "test_cast_FLOAT_to_STRING"} {
		seeds = append(seeds, filepath.Join(backendNodeDir, name, "model.onnx"))
	}
	for _, name := range []string{"test_ConstantPad2d", "test_ReflectionPad2d", "test_AvgPool1d", "test_Conv2d_groups", "test_Linear_no_bias", "test_PixelShuffle"} {
		seeds = append(seeds, filepath.Join(backendNodeDir, "..", "pytorch-converted", name, "model.onnx"))
	}
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := DecodeModel(b)
		if err != nil {
			return
		}
		shapes := map[string][]int64{}
		for _, in := range g.Inputs {
			s := make([]int64, len(in.Shape))
			for i, d := range in.Shape {
				s[i] = max(d.Value, 1)
				if s[i] > 64 {
					return
				}
			}
			shapes[in.Name] = s
		}
		g.InferShapes(shapes)
	})
}

// FuzzDecodeTensor decodes arbitrary bytes as a TensorProto; it must never panic and a
// decoded tensor must be consistent with its dims and survive a round trip.
func FuzzDecodeTensor(f *testing.F) {
	for _, s := range []string{"test_conv_with_strides_padding/test_data_set_0/input_0.pb",
		"test_reshape_zero_dim/test_data_set_0/input_1.pb", "test_dropout_default_mask/test_data_set_0/output_1.pb"} {
		if b, err := os.ReadFile(filepath.Join(backendNodeDir, s)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tt, err := DecodeTensor(b)
		if err != nil {
			return
		}
		if n, err := NumElements(tt.Dims); err != nil || n != int64(tt.Len()) {
			t.Fatalf("decoded tensor dims %v with %d elements", tt.Dims, tt.Len())
		}
		enc, err := EncodeTensor(tt)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeTensor(enc)
		if err != nil || back.Len() != tt.Len() {
			t.Fatalf("round trip: %v", err)
		}
	})
}
