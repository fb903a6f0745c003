"""Hydra's own errors about a command line, as msvdd's one line (exit 2) instead of Hydra's several (exit 1).

Hydra composes the config before msvdd sees it, so a misspelled key (``pretrain.epoch=3``), an option
that does not exist (``dataset=svhn``), an override it cannot parse, or a sweeper setting its plugin
refuses (``hydra.sweeper.sampler=tpee``) fail inside Hydra. :func:`as_user_error` reads those errors
(their OmegaConf cause names the field and the node that lacks it) and says the same in one line, with
the close existing key for a misspelling.
"""

from __future__ import annotations

import re

from hydra.errors import ConfigCompositionException, InstantiationException, OverrideParseException
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from msvdd.errors import MsvddError
from msvdd.run.keys import close_key, unknown_key


class CommandLineError(MsvddError):
    """A command-line override Hydra could not apply, said in one line."""


def _lines(text: str) -> str:
    """The first paragraph of ``text`` on one line (Hydra appends its config search path after a blank line)."""
    return " ".join(str(text).strip().split("\n\n")[0].split())


def _value(override: str):
    """The value of ``key=value`` as Hydra reads it (``3`` -> 3, ``[1]`` -> [1]); the text where it cannot."""
    text = override.split("=", 1)[1] if "=" in override else ""
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        return OverridesParser.create().parse_override(f"x={text}").value()
    except Exception:  # noqa: BLE001 - a value Hydra cannot parse is shown as typed
        return text


def _unknown_key(err: ConfigCompositionException, cause: OmegaConfBaseException) -> MsvddError | None:
    parent = getattr(cause, "parent_node", None)
    field = getattr(cause, "full_key", None)
    typed = re.search(r"use \+(\S+=.*)$", str(err), re.MULTILINE)
    if not isinstance(parent, DictConfig) or not field or not typed:
        return None
    where = field.rpartition(".")[0] or "the config"
    return unknown_key(field, _value(typed.group(1)), list(parent.keys()), where)


def _missing_option(err) -> MsvddError | None:
    missing, options = getattr(err, "missing_cfg_file", None), getattr(err, "options", None)
    if not missing or not options or "/" not in str(missing):
        return None
    group, _, name = str(missing).rpartition("/")
    near = close_key(name, options)
    hint = f" (did you mean {group}={near}?)" if near else ""
    return CommandLineError(f"{group}={name}: no such option{hint}; allowed: {', '.join(options)} (conf/{group}/)")


def as_user_error(err: BaseException) -> MsvddError | None:
    """The one line for a Hydra error a user fixes on the command line, or None (Hydra's message stands)."""
    cause = err.__cause__
    if isinstance(err, OverrideParseException):
        return CommandLineError(f"{err.override}: not an override Hydra can read ({_lines(err.message)})")
    if isinstance(err, InstantiationException):  # the sweeper or launcher refusing its settings
        where = re.search(r"full_key: (\S+)", str(err))
        if where and where.group(1).startswith("hydra.") and isinstance(cause, (ValueError, TypeError)):
            text = _lines(str(cause))
            return CommandLineError(text if where.group(1) in text else f"{where.group(1)}: {text}")
        return None
    if not isinstance(err, ConfigCompositionException):
        return None
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)):
        found = _unknown_key(err, cause)
        if found is not None:
            return found
    found = _missing_option(err)
    if found is not None:
        return found
    detail = f": {_lines(cause.msg if isinstance(cause, OmegaConfBaseException) else cause)}" if cause else ""
    return CommandLineError(_lines(str(err)).removesuffix(".") + detail)
