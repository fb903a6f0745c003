"""Hydra override text <-> Python values, through Hydra's own ``OverridesParser``.

:func:`format_value` writes a value as override text that Hydra reads back as exactly that value;
:func:`parse_override` parses one ``key=value`` line, working around Hydra 1.3's ``choice()``, which
rejects ``null`` arguments: the line is re-parsed with a placeholder string, which
:func:`null_from_placeholder` maps back to ``None``. Hydra is imported lazily (the sweeper plugin
imports this module, and Hydra imports every plugin module when it scans).
"""

import math
import re
from typing import Any

NULL_SENTINEL = "__msvdd_null__"
# a bare null token: not glued to other identifier-ish characters
_NULL_TOKEN = re.compile(r"(?<![^\s(,\[{:=])null(?![^\s),\]}])", re.IGNORECASE)


def format_value(value: Any) -> str:
    """Override text for a plain Python value (``None`` -> ``null``, bools lower-case)."""
    from hydra.core.override_parser.types import Transformer

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string_text(value)
    return Transformer.str(value)


def _string_text(text: str) -> str:
    """Override text that Hydra reads back as exactly the string ``text``.

    Escapes special characters, and quotes strings that would otherwise be read as another type
    (``"null"``, ``"1"``, ``"true"``, ``""``).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Quote, QuotedString, Transformer
    from hydra.errors import HydraException

    escaped = Transformer.str(text)
    try:
        parsed = OverridesParser.create().parse_overrides([f"k={escaped}"])[0]
    except HydraException:
        parsed = None
    if parsed is not None and not parsed.is_sweep_override():
        value = parsed.value()
        if isinstance(value, str) and value == text:
            return escaped
    return QuotedString(text=text, quote=Quote.single).with_quotes()


def _replace_null_tokens(line: str) -> str:
    """``key=choice(null,1)`` -> ``key=choice('__msvdd_null__',1)``; quoted text is left alone."""
    key, sep, value = line.partition("=")
    if not sep:
        return line
    out: list[str] = []
    segment: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(value):
        ch = value[i]
        if quote is None:
            if ch in ("'", '"'):
                out.append(_NULL_TOKEN.sub(f"'{NULL_SENTINEL}'", "".join(segment)))
                segment = []
                quote = ch
                out.append(ch)
            else:
                segment.append(ch)
        else:
            out.append(ch)
            if ch == "\\" and i + 1 < len(value):
                out.append(value[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        i += 1
    out.append(_NULL_TOKEN.sub(f"'{NULL_SENTINEL}'", "".join(segment)))
    return f"{key}={''.join(out)}"


def null_from_placeholder(value: Any) -> Any:
    """``value`` with the placeholder of :func:`parse_override` turned back into ``None``."""
    if isinstance(value, str) and value == NULL_SENTINEL:
        return None
    if isinstance(value, list):
        return [null_from_placeholder(v) for v in value]
    if isinstance(value, dict):
        return {k: null_from_placeholder(v) for k, v in value.items()}
    return value


def parse_override(line: str, config_loader: Any = None) -> tuple[Any, bool]:
    """Parse one ``key=value`` line with Hydra's ``OverridesParser``.

    Returns ``(override, used_null_placeholder)``.  When Hydra rejects the line only because of a
    ``null`` inside ``choice()``, the line is re-parsed with a placeholder string instead.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create(config_loader=config_loader)
    try:
        return parser.parse_overrides([line])[0], False
    except OverrideParseException:
        patched = _replace_null_tokens(line)
        if patched == line:
            raise
        try:
            return parser.parse_overrides([patched])[0], True
        except OverrideParseException:
            pass
        raise


def plain_value(value: Any) -> Any:
    """A parsed override value as plain Python (Hydra's quoted strings as ``str``)."""
    from hydra.core.override_parser.types import QuotedString

    if isinstance(value, QuotedString):
        return value.text
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    return value
