// Package fmnist reads and writes the Fashion-MNIST dataset (Xiao, Rasul and
// Vollgraf, 2017), finds and verifies it on disk or downloads it, and turns
// arbitrary user images into the model's 28x28 input.
//
// # The IDX format
//
// Fashion-MNIST, like MNIST, is stored in IDX files, optionally gzip-compressed
// (the readers detect gzip by its magic bytes 1f 8b, never by the file name).
// All integers are big-endian.
//
//	offset  size  field
//	0       1     0x00
//	1       1     0x00
//	2       1     element type: 0x08 unsigned byte (0x09 signed byte, 0x0B int16,
//	              0x0C int32, 0x0D float32, 0x0E float64 exist but are refused here)
//	3       1     number of dimensions D: 3 for images, 1 for labels
//	4       4*D   the size of each dimension, uint32 (IDX calls them int32: a
//	              value of 2^31 or more, or 0, is refused)
//	4+4*D   ...   the data, one byte per element, row-major (last dimension
//	              fastest), exactly the product of the sizes, then end of file
//
// So an image file begins 00 00 08 03 (magic 0x00000803), count, rows, columns
// (16 header bytes; Fashion-MNIST's are 60000 or 10000, 28, 28) followed by
// count*rows*columns pixel bytes, image after image, each row by row, 0 the
// background and 255 full intensity. A label file begins 00 00 08 01 (magic
// 0x00000801), count (8 header bytes), followed by count label bytes, each
// 0..9 (see ClassNames).
//
// # Invariants of the readers
//
//   - Sizes are checked before memory is allocated: for a raw file the
//     header's claim must match the file's length exactly; for gzip, whose
//     decompressed length is unknown up front, the claim must fit what the
//     compressed size can hold (1032:1 at most) and the buffer grows only as
//     data actually arrives. MaxDataBytes bounds the product of the sizes.
//   - A truncated file, a gzip stream with a bad CRC-32 or length, corrupt
//     deflate data, and any byte after the data or after the last gzip member
//     are errors, never a short dataset.
//   - Errors are *FormatError values naming the file, the field and the byte
//     offset (of the decompressed stream for gzip files).
//   - Writers write a temporary file in the destination directory, sync it and
//     rename it into place: a failed write leaves the old file untouched.
//
// # Finding the dataset
//
// Locate looks in a directory given by the caller, $FMNIST_DATA,
// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist) and the
// user cache, downloads into the cache as a last resort, and verifies every
// file by the SHA-256 of its decompressed content, remembering successful
// checks in a stamp file so that later runs do not pay for them.
//
// # Preprocessing
//
// Preprocess and PreprocessImage turn any picture (PNG, JPEG, GIF, BMP, TIFF
// or WebP, 8 or 16 bits, gray or colour, signed-integer TIFF included) into
// the model's 28x28 input by the steps that built the dataset from product
// photos (Xiao et al. 2017: trim the background, resize the longest edge to
// 28, sharpen, centre, negate, 8-bit gray), made to survive the pictures
// users take. Inputs are never modified; outputs are freshly allocated. The
// steps, with their constants and where each comes from:
//
//  0. Orientation. Preprocess reads the EXIF Orientation tag (TIFF tag 274)
//     from a JPEG's APP1 "Exif" segment, a TIFF's first IFD, a WebP's EXIF
//     chunk or a PNG's eXIf chunk, in either byte order, with our own
//     bounded reader (Orientation; no library: the one value needed is a
//     dozen bytes into a structure whose every offset is checked, and a
//     damaged tag reads as upright rather than failing the picture), and
//     turns the picture upright (all eight values, as Exif 2.32 section
//     4.6.5 defines them). Checked against PIL's ImageOps.exif_transpose
//     (testdata/gen/fmnist/make_photo_fixtures.py).
//  1. Gray and colour. Luma Y' = 0.299 R' + 0.587 G' + 0.114 B' on the
//     gamma-encoded values (ITU-R BT.601, JPEG's own Y, which is used
//     directly), kept at 16 bits; chroma (BT.601 Cb, Cr) only for the item
//     search. A transparent picture is flattened onto white behind a dark
//     object, black behind a light one (its transparent border decides).
//  2. A working copy: luma and chroma averaged over f x f blocks so that the
//     long side is at most 192 pixels (workMax: enough to hold an item a
//     fifth of the frame wide at 38 pixels, and it averages sensor noise
//     down by f), then smoothed with a 3x3 binomial kernel.
//  3. The backdrop: a quadratic surface per channel (c0 + c1 u + c2 v + c3
//     u^2 + c4 uv + c5 v^2) fitted to a border ring 3% of the short side
//     wide (ringFrac). The fit is by consensus: the constant is the level
//     most ring pixels lie near (within 3 times the ring's noise, measured
//     from neighbouring differences, and 2/255 at least); the quadratic is
//     kept only when a tenth more ring pixels agree with it. So a flat
//     backdrop keeps its exact level, a lighting gradient or vignette is
//     modelled, and an item covering part of the ring (or, spread over many
//     levels, most of it) cannot bend the model.
//  4. The item: every pixel's distance from the backdrop (luma and chroma
//     together), thresholded with hysteresis. The low threshold is the
//     ring's median distance plus 8 median absolute deviations (noiseK; 8
//     MADs is about 5 standard deviations of Gaussian noise, so a handful of
//     pixels in a working copy cross it by chance) and 6/255 at least
//     (lowFloor, above JPEG's ringing on a clean backdrop); it follows the
//     picture's own noise and texture. A region counts only if some pixel of
//     it reaches 3 times that and 30/255 (highK, highFloor: every dataset
//     item peaks at 254 or 255, so a real item reaches far above), and it
//     covers 0.2% of the working copy (minAreaFrac, 6 pixels at least). The
//     mask is closed with a 3x3 square (joins straps a pixel or two apart),
//     then opened with one where its pixels are faint (below 2 low
//     thresholds, thinK): a textured backdrop's grain or ridge touching the
//     item joins it as a line a pixel wide, which widened the box (texture
//     form 0.888 to 0.896 and phone 0.900 to 0.904 on 500 pictures; a strap
//     or handle is darker, and stays). The largest region by mass (summed distance) is kept, with the
//     regions holding 5% of its mass (keepMass) within a quarter of its size
//     (keepGap): a sandal's separate strap, a bag's handle.
//  5. Shadows, on items 4 or more source pixels an output pixel
//     (shadowMin), modelled (shadow.go): a drop shadow is the item's
//     silhouette (its strong pixels, 45% of its 95th-percentile difference
//     or more, coreFrac, holes filled), shifted and blurred, times a depth,
//     as a photographed shadow is a soft, offset copy of the item's outline.
//     It is fitted by least squares to how much darker than the backdrop
//     the item's surroundings are (within 30% of its size, shadowReach;
//     relative to the backdrop's light, as in step 8): offsets up to 12% of
//     the item's size (shadowShift; none along an axis the item spans from
//     edge to edge, where its shadow would fall outside the picture: on the
//     catalog pictures, whose items fill the frame, that leaves 2 false
//     shadows of 3), coarse then pixel by pixel, and
//     softnesses of 2.5% to 11% (shadowSigmas; the photo benchmark draws
//     3-8%), each blurred by three box filters. The item's own soft edge (a
//     rim: the silhouette blurred in place by 0.3 of an output pixel,
//     shadowRimOut, as an edge fades over about one, and by 1.2 working
//     pixels at least, shadowRim) is fitted beside it. A shadow is taken
//     when it is 6% deep or more (shadowMinDepth), explains 85% of the
//     darkening (shadowMinFit) and 40% beyond what the rim explains
//     (shadowMinGain): measured on 20 shop and 20 shadow pictures, the
//     item's own edge and faint parts explain up to 74% with a gain below
//     0.25 (two outliers at 0.51 and 0.57 explain under 75%), real shadows
//     85-98% with a gain of 0.49 to 0.72; on the 300 catalog pictures of
//     TestPreprocessCatalogJPEG, 8 faint items fit at 81-88% (at 80% they
//     raise its mean difference from 2.16 to 2.26) and 3 remain at 85%.
//     The silhouette misses the item's faint parts, whose shadow the
//     depth then makes up for (fitted 0.1 to 0.3 too deep), so the fit is
//     repeated once, without the rim, on every pixel darker than the first
//     shadow explains (then within 0.06 of the drawn depth on 7 of 8). The
//     mask keeps, beyond the silhouette's rim, only pixels darker than 1.5
//     times the modelled shadow (shadowSlack: the model's error) by the low
//     threshold, joined to the silhouette; the crop takes the modelled
//     depth off every pixel, (r-s)/(1-s), under the item too, where the
//     shadow shows through its light parts. When no shadow is modelled, on
//     pictures magnified 12 times or more (refineMin; a small picture's
//     faint outskirts are its own), the older rule cuts a shadow beside the
//     item: the box of the strong pixels is grown by 5% of its size
//     (coreGrow); a side where the mask reaches beyond that, not on the
//     opposite side, as a solid band (half filled, shadowFill) whose mean
//     difference fades from 80% to 20% over at least 1.4 item pixels
//     (shadowSoft) is a shadow: the mask is cut back there and the crop
//     takes the shadow's depth (its 90th percentile) off every value. On
//     the photo benchmark (500 pictures, seed 1) the model takes the shadow
//     form from 0.842 to 0.878 and phone from 0.864 to 0.894, shop
//     unchanged at 0.912; the same pictures without their shadow score
//     0.916.
//  6. No item. A picture with fewer than 8 pixels a side (MinSide), or in
//     which no region passes step 4 (flat colour, gradient, texture, noise),
//     comes back with NoObject set and a Reason; its Input is blank and
//     fminfer reports it instead of classifying it. Measured on the photo
//     benchmark: all blank pictures flagged, 0.3% of real items (items
//     nearly the backdrop's shade).
//  7. Polarity (Auto): the sign of the item's mean luma difference from the
//     backdrop model decides, whatever the backdrop's shade. A border rule
//     (a light ring means a dark item, below 0.25 a light one) decided
//     before, and it blacked out a navy item on a saturated blue backdrop,
//     whose luma is below 0.25: 5% of the photo benchmark's gradient form
//     (0.884 to 0.902 on 500 pictures). A 28x28 picture, and one where no
//     item is found, keep the border rule alone (the dataset's items touch
//     and can fill its 1-pixel ring).
//  8. Intensities as in the dataset: each pixel's difference from the
//     backdrop relative to the light the backdrop reflects, (back-p)/back
//     for a dark item and (p-back)/(1-back) for a light one, which evens out
//     uneven light and is exactly the negated luma on white (or the luma on
//     black). Outside the mask (grown by one working pixel to keep the faint
//     rim) the crop is exactly 0. On a flawless backdrop (no deviation at
//     all in the full-resolution ring: rendered and catalog pictures) nothing
//     is masked and the crop box is the extent of every differing pixel near
//     the item, as in the dataset's trimming, unless step 5 modelled a
//     shadow: a shadow differs from the backdrop too, so the crop is masked
//     as on any other backdrop (it took the shadow in before, which scored
//     rendered shadow pictures 0.868 against 0.946 as PNGs, and 0.918
//     after, on the 1000 items at the end of the training set; the catalog
//     pictures' mean difference moved from 2.16 to 2.18).
//  9. Tilt. The item's edges vote for their direction: every pixel of the
//     mask's outline and inside with a Sobel gradient of 0.02 or more
//     (edgeMin, on the blurred working copy: above its noise at sigma 10)
//     adds its gradient's strength to a one-degree histogram of directions
//     folded into a quarter turn, smoothed by a Gaussian of 2 degrees
//     (edgeSmooth); the peak, refined between bins, is the tilt, since the
//     dataset's items stand straight and their outlines and seams run
//     upright and level. A soft shadow's edges are weak and hardly vote,
//     where a bounding-box criterion is swayed by the shadow's outline. The
//     tilt is turned back when it is 3 to 25 degrees (deskewMin,
//     deskewMax) and the turn widens the mask's bounding box by 3% at most
//     (deskewWiden), or not at all on items under 4 source pixels an output
//     pixel (shadowMin), whose masks no soft shadow swells (the dataset's
//     images reframed: 9704 of 10000 exact with 3%, 9754 without; the old
//     search, 9759). Measured on the photo benchmark (400 pictures each of
//     shop, shadow, rotate and phone, seed 1): a shoe's sloping upper or a
//     diagonal print makes a false pile on 28 of the 800 upright items, and
//     the box rule leaves 13 of them while the turn is within 3 degrees of
//     the truth on all but 86 of the 800 rotate and phone pictures (tilted
//     up to 15 degrees; 80 with no rule, 143 with a 0% rule; the
//     smallest-box search this replaced missed 3 in 10 of them, mostly where
//     a shadow swelled the mask).
//     The turned crop is sampled bilinearly after block averaging (no
//     aliasing).
//  10. Edges at half height, on crops magnified 12 times or more
//     (refineMin): a blurred or interpolated edge fades over about an
//     output pixel and its tail would widen the box; each side moves in to
//     the first row or column reaching half of the value half an output
//     pixel further in. Below 12 (the catalog copies of
//     TestPreprocessCatalogJPEG are 8) a faint edge row is often a real part
//     of the item: measured there, half-height edges raise the mean
//     difference from the dataset from 2.03 to 2.9. A side at the picture's
//     edge stays where the item is cut off (6/255 or more there,
//     borderFloor).
//  11. Resizing: the longest edge of the box becomes 28 pixels, the other
//     keeps the aspect ratio (rounded, at least 1), by area averaging: each
//     output pixel is the exact area-weighted mean of the source pixels it
//     covers, computed in integers and rounded half up. When the box is
//     reduced more than twofold, an unsharp mask (amount 4/5, 3x3 binomial
//     blur) stands in for the dataset's sharpening step (tuned on
//     TestPreprocessCatalogJPEG: mean difference 2.05, 6.82 without it).
//  12. Contrast: a crop whose brightest pixel is below 224 (normaliseBelow)
//     is stretched to peak at 255, as every dataset image does (their
//     maxima are 254 or 255); blur alone takes less than that off (the
//     catalog copies all peak at 220 or more, and stretching them would move
//     them from the dataset).
//  13. Centring on a black 28x28 canvas; an odd margin puts the extra pixel
//     before the item, as the dataset does for 99.6% of its images.
//
// A picture that is already 28x28 skips steps 2 to 13 for its pixels
// (PreprocessOptions.AlwaysReframe forces them), so a dataset image comes
// back bit-exact; it is still searched for an item.
//
// The photo benchmark (photobench_test.go, make test-long) measures all of
// this on pictures internal/photogen makes from the test set.
package fmnist
