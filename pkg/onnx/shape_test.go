package onnx

import "testing"

// TestWindowOutput checks the pad arithmetic against the shapes of ONNX 1.12's backend
// node tests (named in each row) and hand-checked ceil-mode cases.
func TestWindowOutput(t *testing.T) {
	tests := []struct {
		name                string
		in, k, s, d, pb, pe int64
		auto                AutoPad
		ceil                bool
		out, begin, end     int64
	}{
		{"test_maxpool_2d_default", 32, 2, 1, 1, 0, 0, NotSet, false, 31, 0, 0},
		{"test_maxpool_2d_pads", 28, 3, 1, 1, 2, 2, NotSet, false, 30, 2, 2},
		{"test_maxpool_2d_strides", 32, 5, 3, 1, 0, 0, NotSet, false, 10, 0, 0},
		{"test_maxpool_2d_ceil", 4, 3, 2, 1, 0, 0, NotSet, true, 2, 0, 0},
		{"test_maxpool_2d_ceil floor", 4, 3, 2, 1, 0, 0, NotSet, false, 1, 0, 0},
		{"test_maxpool_2d_dilations", 4, 2, 1, 2, 0, 0, NotSet, false, 2, 0, 0},
		{"test_maxpool_2d_same_upper", 32, 2, 1, 1, 0, 0, SameUpper, false, 32, 0, 1},
		{"test_maxpool_2d_same_lower", 32, 2, 1, 1, 0, 0, SameLower, false, 32, 1, 0},
		{"test_maxpool_2d_precomputed_same_upper", 5, 3, 2, 1, 0, 0, SameUpper, false, 3, 1, 1},
		{"test_conv_with_autopad_same", 5, 3, 2, 1, 0, 0, SameLower, false, 3, 1, 1},
		{"test_conv_with_strides_and_asymmetric_padding (H)", 7, 3, 2, 1, 1, 1, NotSet, false, 4, 1, 1},
		{"test_conv_with_strides_and_asymmetric_padding (W)", 5, 3, 2, 1, 0, 0, NotSet, false, 2, 0, 0},
		{"valid", 7, 3, 2, 1, 5, 5, Valid, false, 3, 0, 0},
		{"same_upper odd total", 6, 4, 1, 1, 0, 0, SameUpper, false, 6, 1, 2},
		{"same_lower odd total", 6, 4, 1, 1, 0, 0, SameLower, false, 6, 2, 1},
		{"same ignores ceil", 7, 3, 2, 1, 0, 0, SameUpper, true, 4, 1, 1},
		// ceil mode: ceil((5+1+1-2)/2)+1 = 4, but window 3 would start at 3*2-1 = 5, past
		// the input (in the end padding): dropped.
		{"ceil drops window starting in end pad", 5, 2, 2, 1, 1, 1, NotSet, true, 3, 1, 1},
		// in 4, pads 1,1, k 2, s 2: ceil((4+2-2)/2)+1 = 3; window 2 starts at 4-1 = 3 < 4+1: keep.
		{"ceil keeps window in input", 4, 2, 2, 1, 1, 1, NotSet, true, 3, 1, 1},
		// in 4, pad end 1, k 2, s 3: ceil((4+1-2)/3)+1 = 2; window 1 starts at 3 < 4: keep.
		{"ceil end pad", 4, 2, 3, 1, 0, 1, NotSet, true, 2, 0, 1},
		// in 3, pad end 2, k 1, s 2: ceil((3+2-1)/2)+1 = 3; window 2 starts at 4 >= 3: dropped.
		{"ceil drops window in end pad", 3, 1, 2, 1, 0, 2, NotSet, true, 2, 0, 2},
	}
	for _, tc := range tests {
		out, b, e, err := WindowOutput(tc.in, tc.k, tc.s, tc.d, tc.pb, tc.pe, tc.auto, tc.ceil)
		if err != nil || out != tc.out || b != tc.begin || e != tc.end {
			t.Errorf("%s: got out %d pads %d,%d err %v; want %d pads %d,%d", tc.name, out, b, e, err, tc.out, tc.begin, tc.end)
		}
	}
}

func TestWindowOutputErrors(t *testing.T) {
	tests := []struct {
		name                string
		in, k, s, d, pb, pe int64
		auto                AutoPad
	}{
		{"kernel larger than input", 2, 3, 1, 1, 0, 0, NotSet},
		{"valid kernel larger", 2, 3, 1, 1, 0, 0, Valid},
		{"dilated kernel larger", 4, 3, 1, 2, 0, 0, NotSet},
		{"zero stride", 4, 2, 0, 1, 0, 0, NotSet},
		{"negative pad", 4, 2, 1, 1, -1, 0, NotSet},
		{"huge dilation", 4, 3, 1, 1 << 40, 0, 0, NotSet},
		{"bad auto_pad", 4, 2, 1, 1, 0, 0, AutoPad(9)},
	}
	for _, tc := range tests {
		if _, _, _, err := WindowOutput(tc.in, tc.k, tc.s, tc.d, tc.pb, tc.pe, tc.auto, false); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestReshapeShape(t *testing.T) {
	b := &NodeBase{Op: "Reshape"}
	tests := []struct {
		x, shape  []int64
		allowZero bool
		want      []int64 // nil: error
	}{
		{[]int64{2, 3, 4}, []int64{4, 2, 3}, false, []int64{4, 2, 3}},
		{[]int64{2, 3, 4}, []int64{2, 0, 4, 1}, false, []int64{2, 3, 4, 1}},  // test_reshape_zero_dim
		{[]int64{2, 3, 4}, []int64{2, 0, 1, -1}, false, []int64{2, 3, 1, 4}}, // test_reshape_zero_and_negative_dim
		{[]int64{2, 3, 4}, []int64{-1, 2, 3, 4}, false, []int64{1, 2, 3, 4}}, // test_reshape_negative_extended_dims
		{[]int64{0, 3, 4}, []int64{3, 4, 0}, true, []int64{3, 4, 0}},         // test_reshape_allowzero_reordered
		{[]int64{2, 3, 4}, []int64{5, -1}, false, nil},
		{[]int64{2, 3, 4}, []int64{2, 3, 5}, false, nil},
		{[]int64{2, 3}, []int64{0, 0, 6}, false, nil},
	}
	for _, tc := range tests {
		got, err := reshapeShape(b, tc.x, tc.shape, tc.allowZero)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%v -> %v: got %v, want an error", tc.x, tc.shape, got)
			}
			continue
		}
		if err != nil || !equalInts(got, tc.want) {
			t.Errorf("%v -> %v: got %v, %v; want %v", tc.x, tc.shape, got, err, tc.want)
		}
	}
}
