"""Nested settings as dotted keys (``{"train": {"lr": 1e-4}}`` -> ``{"train.lr": 1e-4}``), the way a user
types them on the command line: what checkpoints compare, tables tell apart and trackers log."""

from __future__ import annotations


def flatten(node: dict, prefix: str = "") -> dict[str, object]:
    """Nested dicts joined with dots; every other value (lists included) stays whole."""
    out: dict[str, object] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
