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
// Preprocess and PreprocessImage repeat the steps that built the dataset from
// product photos (trim, resize the longest edge to 28, sharpen, centre,
// negate, 8-bit gray) on any PNG, JPEG, GIF, BMP, TIFF or WebP image; a
// dataset image written as PNG comes back bit-exact. Inputs are never
// modified; outputs are freshly allocated.
package fmnist
