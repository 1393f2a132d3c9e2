"""Makes the ImageIO test fixtures and expected.json with Pillow, an encoder/decoder independent
of SwiftSeg's libjpeg-turbo/libpng wrappers. Run once (pip install pillow numpy); the outputs are
checked in, so the tests do not need Python."""
import json

import numpy as np
from PIL import Image

expected = {}


def record(name, img, **extra):
    arr = np.asarray(img)
    h, w = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    expected[name] = dict(width=w, height=h, channels=channels, pixels=arr.reshape(-1).astype(int).tolist(), **extra)


# 8-bit RGB, gray and RGBA PNGs with hand-picked values.
rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]],
                [[0, 0, 0], [10, 20, 30], [200, 100, 50], [1, 2, 3]],
                [[128, 128, 128], [255, 255, 0], [0, 255, 255], [254, 253, 252]]], dtype=np.uint8)
Image.fromarray(rgb, "RGB").save("rgb.png")
record("rgb.png", Image.open("rgb.png").convert("RGB"))

gray = np.array([[0, 1, 2, 3], [100, 127, 128, 129], [252, 253, 254, 255]], dtype=np.uint8)
Image.fromarray(gray, "L").save("gray.png")
record("gray.png", Image.open("gray.png"))

rgba = np.array([[[10, 20, 30, 0], [40, 50, 60, 128], [70, 80, 90, 255]],
                 [[255, 0, 0, 255], [0, 255, 0, 10], [0, 0, 255, 200]]], dtype=np.uint8)
Image.fromarray(rgba, "RGBA").save("rgba.png")
record("rgba.png", Image.open("rgba.png").convert("RGB"))  # Pillow's RGBA -> RGB drops alpha

# Palette PNG: a VOC-like 256-entry palette (255 is the usual ignore colour), indices incl. 255.
palette = [0] * (256 * 3)
for i, c in enumerate([(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128)]):
    palette[3 * i:3 * i + 3] = c
palette[3 * 255:3 * 256] = (224, 224, 192)
indices = np.array([[0, 1, 2, 3, 4], [4, 3, 255, 1, 0]], dtype=np.uint8)
p = Image.fromarray(indices, "P")
p.putpalette(palette)
p.save("palette.png")
reopened = Image.open("palette.png")
record("palette.png", reopened.convert("RGB"), indices=np.asarray(reopened).reshape(-1).astype(int).tolist())

# 1-bit gray: label readers keep 0/1, image readers stretch to 0/255.
bits = np.array([[0, 1, 1, 0], [1, 0, 0, 1]], dtype=bool)
Image.fromarray(bits).save("mask1bit.png")
record("mask1bit.png", Image.open("mask1bit.png").convert("L"), values=bits.reshape(-1).astype(int).tolist())

# 16-bit gray PNGs: one with values above 255, one within 0...255.
for name, values in [("gray16.png", [[0, 1, 255, 256], [1000, 65535, 300, 2]]),
                     ("gray16_small.png", [[0, 1, 2], [150, 254, 255]])]:
    arr = np.array(values, dtype=np.uint16)
    Image.fromarray(arr).save(name)  # mode I;16
    img = Image.open(name)
    assert img.mode.startswith("I"), img.mode
    expected[name] = dict(width=arr.shape[1], height=arr.shape[0], channels=1,
                          values=np.asarray(img).reshape(-1).astype(int).tolist())

# Baseline JPEG of a smooth colour gradient (default 4:2:0 subsampling, quality 90).
y, x = np.mgrid[0:12, 0:16]
photo = np.stack([x * 16, y * 20, 255 - x * 8 - y * 4], axis=-1).clip(0, 255).astype(np.uint8)
Image.fromarray(photo, "RGB").save("photo.jpg", quality=90)
record("photo.jpg", Image.open("photo.jpg").convert("RGB"))
data = open("photo.jpg", "rb").read()
open("truncated.jpg", "wb").write(data[: len(data) // 2])  # cut inside the scan data
open("truncated_eoi.jpg", "wb").write(data[:-2])  # only the end marker missing

# Gray JPEG, also saved under a .png name to check that formats come from magic bytes.
gray_jpeg = np.tile(np.arange(0, 256, 32, dtype=np.uint8), (8, 1))
Image.fromarray(gray_jpeg, "L").save("gray.jpg", quality=95)
record("gray.jpg", Image.open("gray.jpg"))
open("jpeg_named.png", "wb").write(open("gray.jpg", "rb").read())

# CMYK JPEG (Pillow writes Adobe-style inverted CMYK).
cmyk = np.zeros((8, 8, 4), dtype=np.uint8)
cmyk[:, :4] = (0, 255, 255, 0)      # red
cmyk[:, 4:] = (0, 0, 0, 128)         # mid gray
Image.fromarray(cmyk, "CMYK").save("cmyk.jpg", quality=95)
record("cmyk.jpg", Image.open("cmyk.jpg").convert("RGB"))

# EXIF orientation 6 ("rotate 90 clockwise to view"): stored 32x16 with coloured quadrants.
quad = np.zeros((16, 32, 3), dtype=np.uint8)
quad[:8, :16] = (255, 0, 0)      # top-left red
quad[:8, 16:] = (0, 255, 0)      # top-right green
quad[8:, :16] = (0, 0, 255)      # bottom-left blue
quad[8:, 16:] = (255, 255, 255)  # bottom-right white
exif = Image.Exif()
exif[0x0112] = 6
Image.fromarray(quad, "RGB").save("exif6.jpg", quality=95, subsampling=0, exif=exif.tobytes())
from PIL import ImageOps
record("exif6.jpg", ImageOps.exif_transpose(Image.open("exif6.jpg")).convert("RGB"))

# PNG cut in the middle of its IDAT chunk.
png = open("rgb.png", "rb").read()
idat = png.index(b"IDAT")
length = int.from_bytes(png[idat - 4:idat], "big")
open("truncated.png", "wb").write(png[: idat + 4 + length // 2])

open("garbage.png", "wb").write(b"this is not an image, whatever its name says\n")

with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
