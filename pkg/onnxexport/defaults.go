package onnxexport

// The compatibility defaults Export falls back on when ExportOptions leaves ClassNames or
// Preprocessing nil: Fashion-MNIST's facts, as fmnist.ModelFacts returns them. This
// package does not import pkg/fmnist; TestDatasetFactsFromCaller keeps these copies equal
// to fmnist's. They remain because cmd/fmtrain's export path does not pass the facts yet;
// once every caller does, nil can mean "not recorded" and this file can go.
var (
	compatClassNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	compatPreprocessing = Preprocessing{Scale: 1.0 / 255, Offset: 0, Layout: "NCHW", Height: 28, Width: 28,
		Object: "light object on dark background", Centred: true, ColorSpace: "grayscale"}
)
