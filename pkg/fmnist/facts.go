package fmnist

// Preprocessing describes how an image becomes a model input, in the terms an exported
// model records it (pkg/onnxexport's Preprocessing has the same fields in the same order,
// so one converts to the other: onnxexport.Preprocessing(f.Preprocessing)).
type Preprocessing struct {
	Scale      float64 // multiply each 8-bit pixel by this (1/255, as Scale does)
	Offset     float64 // then add this (0)
	Layout     string  // "NCHW"
	Height     int     // Size
	Width      int     // Size
	Object     string  // "light object on dark background" (doc.go, "Preprocessing")
	Centred    bool    // objects are centred in the frame
	ColorSpace string  // "grayscale"
}

// Facts are what a model trained on this dataset should carry about it: the names of its
// outputs and how its inputs are prepared.
type Facts struct {
	ClassNames    []string // ClassNames, indexed by label
	Preprocessing Preprocessing
}

// ModelFacts returns the facts of Fashion-MNIST as fmkit trains on it (28x28 grey images,
// light objects centred on a dark background, scaled by 1/255), for an exporter to record:
// pass them as pkg/onnxexport's ExportOptions.ClassNames and Preprocessing. Each call
// returns a new ClassNames slice.
func ModelFacts() Facts {
	return Facts{
		ClassNames: append([]string(nil), ClassNames[:]...),
		Preprocessing: Preprocessing{Scale: 1.0 / 255, Offset: 0, Layout: "NCHW", Height: Size, Width: Size,
			Object: "light object on dark background", Centred: true, ColorSpace: "grayscale"},
	}
}
