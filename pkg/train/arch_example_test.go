package train

import (
	"fmt"
	"os"
)

func ExampleBuildModel() {
	m, err := BuildModel("book", Shape{1, 28, 28}, NewRNG(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	m.Summary(os.Stdout)
	// Output:
	// Model: "sequential"
	// _________________________________________________________________
	// Layer (type)                 Output Shape              Param #
	// =================================================================
	// conv1 (Conv2D)               (None, 32, 26, 26)        320
	// _________________________________________________________________
	// pool1 (MaxPooling2D)         (None, 32, 13, 13)        0
	// _________________________________________________________________
	// conv2 (Conv2D)               (None, 64, 11, 11)        18,496
	// _________________________________________________________________
	// pool2 (MaxPooling2D)         (None, 64, 5, 5)          0
	// _________________________________________________________________
	// conv3 (Conv2D)               (None, 128, 3, 3)         73,856
	// _________________________________________________________________
	// flatten1 (Flatten)           (None, 1152)              0
	// _________________________________________________________________
	// dense1 (Dense)               (None, 64)                73,792
	// _________________________________________________________________
	// dense2 (Dense)               (None, 10)                650
	// =================================================================
	// Total params: 167,114
	// Trainable params: 167,114
	// Non-trainable params: 0
	// _________________________________________________________________
}

func ExampleBuildModel_error() {
	_, err := BuildModel("c32k3-p2-c64k3-p2-c128k3-p2-c8k3-f-d10", Shape{1, 28, 28}, NewRNG(1))
	fmt.Println(err)
	// Output:
	// train: arch "c32k3-p2-c64k3-p2-c128k3-p2-c8k3-f-d10": token "c8k3" at offset 28: layer conv4: height: input size 1 (padded 1) is smaller than the window 3
}

func ExampleModel_TrainStep() {
	m := SmallModel(NewRNG(1))
	m.SetThreads(1)
	opt := NewAdam(m.Params())
	x, labels := randomBatch(1, 32)
	first, _ := m.TrainStep(opt, x, labels, 32)
	var last float64
	for range 20 {
		last, _ = m.TrainStep(opt, x, labels, 32)
	}
	fmt.Println(first > 2, last < first)
	// Output:
	// true true
}
