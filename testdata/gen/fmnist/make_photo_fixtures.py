#!/usr/bin/python3
"""Make the EXIF-orientation and 16-bit fixtures of pkg/fmnist/testdata/img with PIL,
the library most user pictures pass through.

Run from the repository root: /usr/bin/python3 testdata/gen/fmnist/make_photo_fixtures.py
(needs python3-pil and the Debian dataset-fashion-mnist package).

- boot.png: the upright reference, test item 0 (an ankle boot, which points left) as a catalog
  picture: inverted, 2x bicubic, on an 80x64 white canvas (not square, so that a transpose shows).
- orient-N.{png,webp,tiff,jpg}, N = 1..8: the same picture stored the way a camera stores it when
  it writes EXIF Orientation N: the pixels are the upright picture under the inverse of the
  transform N asks for, and the tag is N (PNG eXIf chunk, WebP EXIF chunk, TIFF tag 274, JPEG APP1;
  the JPEGs at quality 95, in Motorola byte order (as PIL writes it) for odd N and Intel for even N
  (rewritten by hand below). Every file is checked with PIL's own
  ImageOps.exif_transpose (by hand for TIFF, whose reader in PIL 9.4 garbles
  transposed orientations), which must give back the
  upright picture (exactly for the lossless ones).
- boot-gray16.png, boot-gray16.tiff, boot-gray16be.tiff: boot.png in PIL's 16-bit grayscale modes
  I;16 and I;16B, each value v*257 so that they must preprocess exactly as the 8-bit picture does.
"""
import gzip
import io
import struct

import numpy as np
from PIL import Image, ImageOps

OUT = "pkg/fmnist/testdata/img/"

raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()
item = np.frombuffer(raw[16:16 + 784], np.uint8).reshape(28, 28)
cat = Image.fromarray(255 - item).resize((56, 56), Image.BICUBIC)
upright = Image.new("L", (80, 64), 255)
upright.paste(cat, (10, 4))
upright.save(OUT + "boot.png")

# The transform that shows stored pixels upright (as exif_transpose applies it), and its inverse,
# which makes the stored pixels from the upright picture.
show = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
        6: Image.ROTATE_270, 7: Image.TRANSVERSE, 8: Image.ROTATE_90}
store = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
         6: Image.ROTATE_90, 7: Image.TRANSVERSE, 8: Image.ROTATE_270}


def intel(jpeg):
    """Rewrite the JPEG's APP1 Exif block (one IFD0 entry, Orientation) in little-endian order."""
    i = jpeg.index(b"Exif\x00\x00")
    start = i + 6
    assert jpeg[start:start + 2] == b"MM"
    n = struct.unpack(">H", jpeg[start + 8:start + 10])[0]
    entries = []
    for k in range(n):
        e = jpeg[start + 10 + 12 * k:start + 22 + 12 * k]
        tag, typ, cnt = struct.unpack(">HHI", e[:8])
        assert tag == 0x0112 and typ == 3 and cnt == 1
        val = struct.unpack(">H", e[8:10])[0]
        entries.append(struct.pack("<HHIHH", tag, typ, cnt, val, 0))
    tiff = b"II\x2a\x00" + struct.pack("<I", 8) + struct.pack("<H", n) + b"".join(entries) + b"\x00\x00\x00\x00"
    seglen = struct.unpack(">H", jpeg[i - 2:i])[0]
    old = jpeg[i - 4:i - 2 + seglen]
    body = b"Exif\x00\x00" + tiff
    new = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg.replace(old, new, 1)


for n in range(1, 9):
    stored = upright if n == 1 else upright.transpose(store[n])
    exif = Image.Exif()
    exif[0x0112] = n
    for ext, kw in (("png", {}), ("webp", {"lossless": True}), ("tiff", {}), ("jpg", {"quality": 95})):
        b = io.BytesIO()
        if ext == "tiff":
            stored.save(b, "TIFF", tiffinfo={274: n})
        else:
            stored.save(b, {"jpg": "JPEG"}.get(ext, ext.upper()), exif=exif.tobytes(), **kw)
        data = b.getvalue()
        if ext == "jpg" and n % 2 == 0:
            data = intel(data)
        got = Image.open(io.BytesIO(data))
        if ext == "tiff":
            # PIL 9.4 reads an oriented TIFF through libtiff's RGBA interface, which applies the
            # orientation but keeps the stored size: check the tag and the raw (uncompressed)
            # strips instead, and apply the orientation by hand.
            assert got.tag_v2.get(274) == n, (n, got.tag_v2.get(274))
            raw = b"".join(data[o:o + c] for o, c in zip(got.tag_v2[273], got.tag_v2[279]))
            assert raw == stored.tobytes(), n
            back = stored if n == 1 else stored.transpose(show[n])
        else:
            back = ImageOps.exif_transpose(got).convert("L")
        assert back.size == upright.size, (n, ext, back.size)
        err = np.abs(np.asarray(back, int) - np.asarray(upright, int)).max()
        assert err == 0 or ext == "jpg", (n, ext, err)
        open(OUT + "orient-%d.%s" % (n, ext), "wb").write(data)

g16 = Image.fromarray(np.asarray(upright, np.uint16) * 257)
assert g16.mode == "I;16"
g16.save(OUT + "boot-gray16.png")
g16.save(OUT + "boot-gray16.tiff")
be = Image.frombytes("I;16B", upright.size, (np.asarray(upright, ">u2") * 257).tobytes())
be.save(OUT + "boot-gray16be.tiff")
print("wrote", OUT + "boot*.png/tiff and orient-1..8.{png,webp,tiff,jpg}")
