package train

import "fmt"

// ExampleNewModel assembles a model from layers whose weights come from
// elsewhere (an ONNX importer, say): supplied parameters are adopted as they
// are, missing ones are created, and every shape is checked.
func ExampleNewModel() {
	w := &Param{Shape: []int{2, 4}, Data: []float32{1, 0, 0, 0, 0, 1, 0, 0}}
	b := &Param{Shape: []int{2}, Data: []float32{0.5, -0.5}}
	m, err := NewModel(Shape{1, 2, 2}, &Flatten{}, &Dense{Units: 2, W: w, B: b})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Logits([]float32{3, 4, 5, 6}, 1, false))
	for _, p := range m.Params() {
		fmt.Println(p.Name, p.Shape)
	}
	_, err = NewModel(Shape{1, 2, 3}, &Flatten{}, &Dense{Units: 2, W: &Param{Shape: []int{2, 4}, Data: make([]float32, 8)}})
	fmt.Println(err)
	// Output:
	// [3.5 3.5]
	// dense1.weight [2 4]
	// dense1.bias [2]
	// train: layer dense1: weight has shape (2, 4), want (2, 6)
}
