"""Sweep job folder names: the job's overrides, as Hydra's ``override_dirname`` writes them, made safe.

A sweep finds each job's folder again by its name (resume), so the name must be stable and unique.
Hydra's name is the sorted override lines joined by commas; two things make it a bad folder name:
a value that is a path (``dataset.path=/data/my_images``) nests the folder as deep as the path and
spells the user's data path into every job's name, and a tuned override line easily passes the
255-byte limit of a file name. Here a value holding a ``/`` becomes its last part and a hash of the
whole value (``dataset.path=my_images~3f2a9c01``: still one folder per data path), and a name past
160 characters is cut and ends in a hash. Every other name is Hydra's own, character for character,
so sweeps written before keep their folders.
"""

from __future__ import annotations

import hashlib
import re

from hydra.core.override_parser.overrides_parser import OverridesParser

LIMIT = 160  # characters of a job folder name before it is cut and hashed


def _hash(text: str, n: int) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:n]


def short_dirname(name: str, limit: int = LIMIT) -> str:
    """``name`` when it has at most ``limit`` characters, else its first ``limit`` and a hash of it all."""
    if len(name) <= limit:
        return name
    return f"{name[:limit]}~{_hash(name, 12)}"


def _safe_line(line: str) -> str:
    """``key=value`` with a path-like value (one holding a ``/``) as ``key=<last part>~<hash of the value>``."""
    key, sep, value = line.partition("=")
    if not sep or "/" not in value:
        return line
    last = re.sub(r"[^\w.-]+", "_", value.strip("'\"").rstrip("/").rsplit("/", 1)[-1]) or "root"
    return f"{key}={last}~{_hash(value, 8)}"


def job_dirname(task, exclude_keys=(), item_sep: str = ",") -> str:
    """A job's folder name from its override lines (``hydra.overrides.task``), leaving out ``exclude_keys``
    (matched as Hydra matches them: the key, or the config group, of each override)."""
    lines = [str(line) for line in task]
    parsed = OverridesParser.create().parse_overrides(lines)
    kept = [_safe_line(line) for line, o in zip(lines, parsed) if o.key_or_group not in set(exclude_keys)]
    return short_dirname(item_sep.join(sorted(kept)))
