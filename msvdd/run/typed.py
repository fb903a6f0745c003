"""What the user typed: the keys of the command line's overrides (Hydra's ``hydra.overrides.task``).

Some rules are about what the user asked for, not about what the config holds: a dataset's default
``normal_classes`` is no request, ``dataset.normal_classes=[4,5]`` next to ``group.size=2`` is one the
group would silently override; a checkpoint's settings replace only what was typed. Composed without
Hydra's app (tests, the Python API) there is no command line: :func:`typed_keys` is None and the caller
owns every value.
"""

from __future__ import annotations

import re

OVERRIDE = re.compile(r"^(?:\+\+|\+|~)?([^=@~]+?)(?:@[^=]*)?(?:=|$)")


def override_key(text: str) -> str | None:
    """``+model/clustering/space@x=pca`` -> ``model.clustering.space``; ``train.lr=1`` -> ``train.lr``."""
    m = OVERRIDE.match(str(text).strip())
    return m.group(1).replace("/", ".") if m else None


def typed_overrides() -> list[str] | None:
    """This job's command-line overrides (a sweep's job: its own values), or None outside Hydra's app."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return [str(o) for o in HydraConfig.get().overrides.task]


def typed_keys() -> set[str] | None:
    """The keys (and groups) the command line set, or None outside Hydra's app."""
    overrides = typed_overrides()
    if overrides is None:
        return None
    return {k for k in map(override_key, overrides) if k}


def is_typed(setting: str, keys: set[str]) -> bool:
    """Whether ``setting`` (``train.lr``) lies under a typed key (``train.lr``) or group (``train=fast``);
    ``method=`` chooses the model, so it covers every ``model.*`` setting."""
    keys = {("model" if k == "method" else k) for k in keys}
    return any(setting == k or setting.startswith(k + ".") for k in keys)
