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
// it rebuilds the architecture recorded in the file for DefaultInputShape
// (1x28x28) unless inShape is given, and sets its weights.
func LoadModel(path string, inShape Shape) (*Model, *Checkpoint, error) {
	c, err := LoadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	return modelFromCheckpoint(path, c, inShape)
}

// DecodeModel is LoadModel for a file already read into data; name names it in errors.
func DecodeModel(name string, data []byte, inShape Shape) (*Model, *Checkpoint, error) {
	c, err := DecodeCheckpoint(name, data)
	if err != nil {
		return nil, nil, err
	}
	return modelFromCheckpoint(name, c, inShape)
}

// modelFromCheckpoint rebuilds the architecture c records and sets its weights.
func modelFromCheckpoint(name string, c *Checkpoint, inShape Shape) (*Model, *Checkpoint, error) {
	if c.Arch == "" {
		return nil, nil, fmt.Errorf("%s: no architecture recorded in the file", name)
	}
	if inShape == nil {
		inShape = DefaultInputShape()
	}
	m, err := BuildModel(c.Arch, inShape, NewRNG(0))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := LoadWeights(m, c); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, c, nil
}
