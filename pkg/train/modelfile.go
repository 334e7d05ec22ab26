package train

import "fmt"

// SaveModel writes m's weights in the native format (the checkpoint format
// of checkpoint.go, holding only the weights) with its architecture spec, so
// that LoadModel can rebuild it. The write is atomic.
func SaveModel(path string, m *Model, arch string, extra map[string]string) error {
	c := WeightsCheckpoint(m)
	c.Arch = arch
	c.Extra = extra
	return SaveCheckpoint(path, c)
}

// LoadModel reads a model written by SaveModel (or a training checkpoint):
// it rebuilds the architecture recorded in the file for a 1x28x28 input
// unless inShape is given, and sets its weights.
func LoadModel(path string, inShape Shape) (*Model, *Checkpoint, error) {
	c, err := LoadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	if c.Arch == "" {
		return nil, nil, fmt.Errorf("%s: no architecture recorded in the file", path)
	}
	if inShape == nil {
		inShape = Shape{1, 28, 28}
	}
	m, err := BuildModel(c.Arch, inShape, NewRNG(0))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := LoadWeights(m, c); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, c, nil
}
