"""Image files on disk: finding them, and decoding them with Pillow (through torchvision) into one
uint8 tensor (n, C, H, W), with the colour conversion and the resize + center-crop done once here."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms.v2 import functional as F
from tqdm.auto import tqdm

from msvdd.errors import ConfigError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
COLORS = {"gray": ("L", 1), "rgb": ("RGB", 3)}
ALLOWED = "a folder of PNG, JPEG, BMP or TIFF images"


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
    """One image as uint8 (C, H, W); an unreadable file is a ConfigError naming it."""
    try:
        with Image.open(path) as im:
            im = im.convert(COLORS[color][0])
            if image_size is not None:
                im = F.center_crop(F.resize(im, [image_size], antialias=True), [image_size])
            return F.pil_to_tensor(im)
    except (OSError, UnidentifiedImageError, ValueError) as err:
        reason = " ".join(str(err).split())[:200]
        raise ConfigError(field, str(path), ALLOWED, f"cannot read this image ({reason})") from None


def decode_images(paths: list[Path], color: str, image_size: int | None, desc: str = "decode images",
                  field: str = "dataset.path", expect: tuple[int, ...] | None = None) -> torch.Tensor:
    """All ``paths`` as one uint8 tensor (n, C, H, W), with a progress bar.

    Every image must have one shape: ``expect`` (C, H, W) where given (a model's input), else the first
    image's. Without ``image_size`` nothing is resized: silently resizing would change the data.
    """
    first = decode_image(paths[0], color, image_size, field)
    out = torch.empty((len(paths), *first.shape), dtype=torch.uint8)
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
        out[i] = img
    return out


def _hw(shape) -> str:
    return f"{shape[-1]}x{shape[-2]}" + (f"x{shape[0]}" if len(shape) == 3 and shape[0] != 1 else "")
