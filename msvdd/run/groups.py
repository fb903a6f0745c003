"""Deterministic groups of normal classes: the same (size, index) names the same classes everywhere.

The seed's table used "random" groups of 2, 3 or 4 classes without saying which. Here the groups
are drawn once, from all C(n_classes, size) combinations in lexicographic order, by a seeded numpy
permutation, so a group is addressed by (size, index) in configs and results alike. The first
``count`` entries of one permutation are taken, so a larger ``count`` extends a table without
changing its existing groups.

Two disjoint sets exist per size: the "table" groups that the reported numbers average over, and
the "dev" groups for hyperparameter tuning, drawn from the combinations the table does not use.
"""

from __future__ import annotations

import itertools

import numpy as np

from msvdd.errors import ConfigError

SPLITS = ("table", "dev")


def _check(n_classes: int, size: int, count: int) -> None:
    if n_classes < 2:
        raise ConfigError("dataset.n_classes", n_classes, "an integer >= 2")
    if not 1 <= size <= n_classes - 1:
        raise ConfigError("group.size", size, f"1..{n_classes - 1} (n_classes={n_classes})")
    if count < 1:
        raise ConfigError("group.count", count, "an integer >= 1")


def _draw(candidates: list[tuple[int, ...]], count: int, seed: int) -> list[tuple[int, ...]]:
    order = np.random.default_rng(seed).permutation(len(candidates))
    return [candidates[i] for i in order[:count]]


def table_groups(n_classes: int, size: int, count: int = 10, seed: int = 0) -> list[tuple[int, ...]]:
    """``count`` distinct sorted class groups of ``size`` classes (all of them if fewer exist)."""
    _check(n_classes, size, count)
    return _draw(list(itertools.combinations(range(n_classes), size)), count, seed)


def dev_groups(
    n_classes: int, size: int, count: int = 3, seed: int = 1, table_count: int = 10, table_seed: int = 0
) -> list[tuple[int, ...]]:
    """Tuning groups: ``count`` groups drawn with ``seed`` from the combinations not in the table.

    Fewer (possibly none) come back when the table already uses nearly all combinations.
    """
    _check(n_classes, size, count)
    taken = set(table_groups(n_classes, size, table_count, table_seed))
    rest = [g for g in itertools.combinations(range(n_classes), size) if g not in taken]
    return _draw(rest, count, seed)


def group_classes(
    size: int,
    index: int,
    *,
    n_classes: int = 10,
    count: int = 10,
    seed: int = 0,
    split: str = "table",
    dev_count: int = 3,
    dev_seed: int = 1,
) -> tuple[int, ...]:
    """The normal classes of one run, addressed by group size and group index within ``split``."""
    if split not in SPLITS:
        raise ConfigError("group.split", split, " or ".join(repr(s) for s in SPLITS))
    if split == "table":
        groups = table_groups(n_classes, size, count, seed)
    else:
        groups = dev_groups(n_classes, size, dev_count, dev_seed, table_count=count, table_seed=seed)
    if not 0 <= index < len(groups):
        allowed = f"0..{len(groups) - 1}" if groups else "none (no groups left for this split)"
        raise ConfigError(
            "group.index", index, allowed, f"no group #{index} of size {size} in split {split!r}"
        )
    return groups[index]
