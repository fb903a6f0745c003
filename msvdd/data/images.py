"""Image files on disk: finding them, and decoding them with Pillow (through torchvision) into one
integer tensor (n, C, H, W), with the colour conversion and the resize + center-crop done once here.

Depth: 8-bit images decode to uint8 (0..255). Grey images of 16 bits (Pillow modes I;16, I;16B, I;16L,
I;16N, and I, a 32-bit container whose values must lie in 0..65535) are read at full depth, not through
Pillow's conversion to L (which clips every value above 255 to 255). A set of images whose values all
fit in 0..255 decodes to uint8 exactly as 8-bit images do; otherwise to int32 on the 16-bit scale
(0..65535), where each 8-bit image's values are multiplied by 257 (255 -> 65535), so that it and a
16-bit copy of it (v * 257) give the same numbers. ``pixel_max`` gives the scale: 255 or 65535.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms.v2 import functional as F
from tqdm.auto import tqdm

from msvdd.errors import ConfigError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
COLORS = {"gray": ("L", 1), "rgb": ("RGB", 3)}
ALLOWED = "a folder of PNG, JPEG, BMP or TIFF images"
WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # grey images of more than 8 bits
MAX_8, MAX_16 = 255, 65535


def pixel_max(images: torch.Tensor) -> int:
    """The value that stands for white in images from ``decode_images``: 255 (uint8) or 65535 (16-bit scale)."""
    return MAX_8 if images.dtype == torch.uint8 else MAX_16


def is_image(path: str | Path) -> bool:
    return str(path).lower().endswith(EXTENSIONS)


def find_images(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursively, hidden files and folders skipped), sorted by path."""
    found = []
    for base, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(base, f) for f in files if not f.startswith(".") and is_image(f)]
    return sorted(found)


def check_color(value) -> str:
    if value not in COLORS:
        raise ConfigError("dataset.color", value, ", ".join(COLORS))
    return value


def check_image_size(value) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError("dataset.image_size", value, "null (keep the images' size) or a positive int")
    return value


def decode_image(path: Path, color: str, image_size: int | None, field: str = "dataset.path") -> torch.Tensor:
    """One image (C, H, W): uint8 for 8-bit images, int32 (0..65535) for 16-bit grey ones; an unreadable
    file, or one over Pillow's decompression-bomb limit, is a ConfigError naming it."""
    try:
        with Image.open(path) as im:
            if im.mode in WIDE_MODES:
                return _decode_wide(im, path, color, image_size, field)
            im = im.convert(COLORS[color][0])
            if image_size is not None:
                im = F.center_crop(F.resize(im, [image_size], antialias=True), [image_size])
            return F.pil_to_tensor(im)
    except Image.DecompressionBombError as err:  # not an OSError: Pillow refuses to decode it at all
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise ConfigError(field, str(path), f"images of at most {limit} pixels (Pillow's decompression-bomb "
                          "limit): shrink or tile this one", f"too large to decode{_pixels(err)}") from None
    except (OSError, UnidentifiedImageError, ValueError) as err:
        reason = " ".join(str(err).split())[:200]
        raise ConfigError(field, str(path), ALLOWED, f"cannot read this image ({reason})") from None


def _pixels(err: Exception) -> str:
    """' (N pixels)' from Pillow's DecompressionBombError, else ''."""
    found = re.search(r"\((\d+) pixels\)", str(err))
    return f" ({found.group(1)} pixels)" if found else ""


def _decode_wide(im: Image.Image, path: Path, color: str, image_size: int | None, field: str) -> torch.Tensor:
    """A 16-bit grey image as int32 (C, H, W) with its own values (0..65535), resized in Pillow's mode I.

    Values that all fit in 8 bits take the 8-bit path (exact for them), so such files decode as before."""
    mode, im = im.mode, im.convert("I")  # exact for I;16*: 32-bit integers
    values = np.asarray(im)
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi > MAX_16:
        raise ConfigError(field, str(path), "images of 8 or 16 bits (values 0..65535)",
                          f"this {mode}-mode image holds values {lo}..{hi}")
    if hi <= MAX_8:
        im = im.convert(COLORS[color][0])
        if image_size is not None:
            im = F.center_crop(F.resize(im, [image_size], antialias=True), [image_size])
        return F.pil_to_tensor(im).to(torch.int32)
    if image_size is not None:
        im = F.center_crop(F.resize(im, [image_size], antialias=True), [image_size])
        values = np.clip(np.asarray(im), 0, MAX_16)
    out = torch.from_numpy(np.array(values, dtype=np.int32))[None]  # a writable copy
    return out.expand(COLORS[color][1], -1, -1).clone()


def decode_images(paths: list[Path], color: str, image_size: int | None, desc: str = "decode images",
                  field: str = "dataset.path", expect: tuple[int, ...] | None = None,
                  wide: bool = False) -> torch.Tensor:
    """All ``paths`` as one tensor (n, C, H, W), with a progress bar: uint8 when every value fits in 8
    bits, else int32 on the 16-bit scale (see the module docstring); ``wide`` asks for the 16-bit scale
    whatever the values (a model trained on it).

    Every image must have one shape: ``expect`` (C, H, W) where given (a model's input), else the first
    image's. Without ``image_size`` nothing is resized: silently resizing would change the data.
    """
    first = decode_image(paths[0], color, image_size, field)
    out = torch.empty((len(paths), *first.shape), dtype=first.dtype)
    eight_bit = torch.zeros(len(paths), dtype=torch.bool)  # which images are 8-bit files (x 257 on 16 bits)
    for i, path in enumerate(tqdm(paths, desc=desc, leave=False, disable=len(paths) < 1000)):
        img = first if i == 0 else decode_image(path, color, image_size, field)
        if expect is not None and tuple(img.shape) != tuple(expect):
            raise ConfigError(field, str(path), f"images of the model's size {_hw(expect)}"
                              f"{'' if image_size is None else ' after the resize to ' + str(image_size)}",
                              f"this image is {_hw(img.shape)}")
        if img.shape != first.shape:
            sizes = f"{paths[0].name} is {_hw(first.shape)}, {path} is {_hw(img.shape)}"
            raise ConfigError("dataset.image_size", image_size, "an int: every image is resized and center-cropped "
                              "to it", f"images of different sizes ({sizes})")
        if img.dtype != out.dtype and out.dtype == torch.uint8:  # the first 16-bit image: widen what came before
            out = out.to(torch.int32)
        eight_bit[i] = img.dtype == torch.uint8
        out[i] = img
    return _one_scale(out, eight_bit, wide)


def _one_scale(out: torch.Tensor, eight_bit: torch.Tensor, wide: bool) -> torch.Tensor:
    """uint8 when every value fits in 8 bits (as 8-bit images always decoded), else the 16-bit scale."""
    if not wide and (out.dtype == torch.uint8 or int(out.max()) <= MAX_8):
        return out.to(torch.uint8)
    out = out.to(torch.int32)
    out[eight_bit] *= MAX_16 // MAX_8  # 257: 8-bit 255 is 16-bit 65535
    return out


def _hw(shape) -> str:
    return f"{shape[-1]}x{shape[-2]}" + (f"x{shape[0]}" if len(shape) == 3 and shape[0] != 1 else "")
