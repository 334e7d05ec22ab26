package fmnist_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/fmkit/fmkit/internal/photogen"
	"github.com/fmkit/fmkit/pkg/fmnist"
)

// TestTilt turns test items by known angles and checks that the tilt found
// undoes them, within 3.5 degrees, and that upright items stay upright.
// The dataset's items themselves lean by up to 3 degrees (a trouser, a
// sneaker's sole), which the edges see; beyond that, what the rule gets
// wrong is mostly shoes whose sloping upper outvotes their sole. Measured
// on these 60 items: 90% to 96% right at each angle, all upright ones.
func TestTilt(t *testing.T) {
	set := localTestSet(t)
	const n = 60
	for _, angle := range []float64{-12, -6, 0, 6, 12} {
		good := 0
		for i := 0; i < n; i++ {
			s := photogen.Spec{
				Width: 480, Height: 480, Backdrop: [3]float64{0.95, 0.95, 0.95}, Ink: [3]float64{0.05, 0.05, 0.08},
				Scale: 0.6, CX: 0.5, CY: 0.5, Angle: angle, Quality: 92, Noise: 2, NoiseSeed: uint64(i),
			}
			data, err := photogen.Encode(set.Image(i), s)
			if err != nil {
				t.Fatal(err)
			}
			p, err := fmnist.Preprocess(bytes.NewReader(data), fmnist.PreprocessOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Tilt is clockwise as shown; the spec turns counter-clockwise.
			if angle == 0 && p.Tilt == 0 || angle != 0 && math.Abs(p.Tilt+angle) <= 3.5 {
				good++
			} else if testing.Verbose() {
				t.Logf("angle %+.0f item %d (%s): tilt %.1f", angle, i, fmnist.ClassNames[set.Labels[i]], p.Tilt)
			}
		}
		t.Logf("angle %+3.0f: %d of %d right", angle, good, n)
		if want := n * 85 / 100; good < want {
			t.Errorf("angle %+.0f: tilt right on %d of %d items, want %d or more", angle, good, n, want)
		}
	}
}
