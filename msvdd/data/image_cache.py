"""Disk cache of decoded image folders, so a second run on the same folder starts in seconds.

The key hashes each file's path, size and modification time plus the decoding options: touching,
adding, removing or replacing an image makes a new entry. Entries live under the outputs' cache folder,
never in the user's data folder, and are written to a temporary file then renamed (never half-written).
A cache folder that cannot be written (read-only, full) is read, and new entries are skipped with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import torch

from msvdd.data.images import decode_images
from msvdd.files import save_torch

log = logging.getLogger(__name__)
VERSION = 2  # bump when decoding changes (2: 16-bit images at full depth)


def folder_key(paths: list[Path], **options) -> str:
    files = []
    for p in paths:
        st = p.stat()
        files.append((str(p), st.st_size, st.st_mtime_ns))
    blob = json.dumps({"version": VERSION, "files": files, "options": options}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cached_decode(paths: list[Path], color: str, image_size: int | None, cache_dir) -> torch.Tensor:
    """decode_images(paths, ...), read from / stored in ``cache_dir`` (None: no cache)."""
    if not cache_dir:
        return decode_images(paths, color, image_size)
    folder = Path(cache_dir)
    entry = folder / f"{folder_key(paths, color=color, image_size=image_size)}.pt"
    if entry.exists():
        try:
            images = torch.load(entry, map_location="cpu", weights_only=True)["images"]
            if len(images) == len(paths):
                log.info("images: %d decoded images from the cache %s", len(images), entry)
                return images
        except Exception as err:  # noqa: BLE001  a damaged entry is decoded again and replaced
            log.warning("images: ignoring unreadable cache entry %s (%s)", entry, err)
    images = decode_images(paths, color, image_size)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save_torch(entry, {"images": images})
    except OSError as err:  # a read-only shared cache, a full disk: the run goes on without storing
        log.warning("images: the cache folder %s cannot be written (%s); the decoded images are not stored",
                    folder, err.strerror or type(err).__name__)
    return images
