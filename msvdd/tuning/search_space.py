"""Hydra sweep syntax -> Optuna search space, parsed with Hydra's own ``OverridesParser``.

=====================================  ===============================================
``hydra.sweeper.params`` value         Optuna
=====================================  ===============================================
``choice(a, b, null)`` / ``a,b,null``  ``suggest_categorical`` (``null`` -> ``key=null``)
``glob(*)`` (config groups)            ``suggest_categorical`` over the matching options
``interval(0.1, 1.0)``                 ``suggest_float``
``interval(1, 10)`` (both ends ints)   ``suggest_int``
``tag(log, interval(1e-5, 1e-2))``     ``suggest_float(..., log=True)`` (int: ``log=True``)
``range(10, 50, step=10)``             ``suggest_int(10, 40, step=10)`` (the values Hydra
                                       would sweep: the stop is exclusive)
``range(0.1, 0.5, 0.1)`` (floats)      ``suggest_categorical`` over the range's values
a YAML list ``[a, b]``                 same as ``choice(a, b)``
a plain value ``3``                    a fixed override applied to every trial
=====================================  ===============================================

Group choices (``objective=choice(one_class,soft_boundary)``) are ordinary overrides.
Two gaps of Hydra 1.3's grammar are filled: ``choice()`` rejects ``null`` arguments (the value is
re-parsed with a placeholder string and mapped back to ``None``: :mod:`msvdd.tuning.overrides`), and
``interval()`` converts its ends to float (whether both ends were written as ints is read from the text).
On the command line Hydra parses overrides itself before the sweeper sees them, so there a
``null`` choice must use the comma form (``key=null,adam``); in ``hydra.sweeper.params`` both
forms work.  Keys added to ``hydra.sweeper.params``/``average_over`` from the command line need
``+`` (``+hydra.sweeper.average_over.k=[1,2]``); a plain ``key=choice(...)`` needs nothing.
"""

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.utils import get_class
from omegaconf import OmegaConf

from msvdd.tuning.overrides import format_value, null_from_placeholder, parse_override, plain_value

log = logging.getLogger(__name__)

_INT_LITERAL = re.compile(r"^[+-]?\d[\d_]*$")
_INTERVAL_CALL = re.compile(r"interval\s*\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)")


@dataclass
class SearchParam:
    """One searched override key and its Optuna distribution.

    ``name`` is the override key as written (``train.lr``, ``objective``, ``+extra``) and is also
    the Optuna parameter name.  ``kind`` is ``"categorical"``, ``"int"`` or ``"float"``.  For
    categoricals ``choices`` are the values stored in Optuna (``None``/bool/int/float/str; lists
    and dicts as their override text) and ``choice_strings`` the override text of each choice.
    """

    name: str
    kind: str
    choices: tuple[Any, ...] = ()
    choice_strings: tuple[str, ...] = ()
    low: float | int | None = None
    high: float | int | None = None
    step: int | None = None
    log: bool = False
    source: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)

    def distribution(self) -> Any:
        """The Optuna distribution (raises ``ValueError`` for an invalid space)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "categorical":
            return CategoricalDistribution(list(self.choices))
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log, step=self.step or 1)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    def suggest(self, trial: Any) -> Any:
        """Ask ``trial`` (an ``optuna.Trial``) for a value through the public ``suggest_*`` API."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=self.step or 1, log=self.log
            )
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def value_string(self, value: Any) -> str:
        """Override text for a value of this parameter (the part after ``=``)."""
        if self.kind == "categorical":
            for choice, text in zip(self.choices, self.choice_strings):
                if type(choice) is type(value) and choice == value:
                    return text
            return format_value(value)
        if self.kind == "int":
            return str(int(value))
        return format_value(float(value))

    def override(self, value: Any) -> str:
        return f"{self.name}={self.value_string(value)}"

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "float")

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"categorical({', '.join(self.choice_strings)})"
        step = f", step={self.step}" if self.step and self.step != 1 else ""
        log = ", log" if self.log else ""
        return f"{self.kind}[{self.low}, {self.high}{step}{log}]"


def _categorical(name: str, elements: Iterable[Any], source: str, tags: Iterable[str] = ()) -> SearchParam:
    from hydra.core.override_parser.types import Transformer

    choices: list[Any] = []
    strings: list[str] = []
    for element in elements:
        element = plain_value(element)
        if element is None or isinstance(element, (bool, int, float, str)):
            choices.append(element)
            strings.append(format_value(element))
        else:  # lists / dicts: Optuna stores their override text
            text = Transformer.str(element)
            choices.append(text)
            strings.append(text)
    if not choices:
        raise ValueError(f"empty choice for '{name}' in '{source}'")
    return SearchParam(
        name, "categorical", tuple(choices), tuple(strings), source=source, tags=frozenset(tags)
    )


def _interval_has_int_ends(text: str) -> bool:
    match = _INTERVAL_CALL.search(text)
    if match is None:
        return False
    ends = [re.sub(r"^\w+\s*=\s*", "", part.strip()) for part in match.groups()]
    return all(_INT_LITERAL.match(end) for end in ends)


def override_to_param(override: Any, source: str, used_null_placeholder: bool = False) -> SearchParam:
    """Map one parsed sweep ``Override`` to a :class:`SearchParam`."""
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

    name = override.get_key_element()
    value = override.value()
    tags = frozenset(getattr(value, "tags", ()) or ())
    log = "log" in tags

    if isinstance(value, ChoiceSweep):
        elements = list(value.list)  # not sweep_iterator(): ignore shuffle(), keep a stable order
        if used_null_placeholder:
            elements = [null_from_placeholder(plain_value(e)) for e in elements]
        return _categorical(name, elements, source, tags)

    if isinstance(value, RangeSweep):
        assert value.start is not None and value.stop is not None
        is_int = all(
            isinstance(v, int) and not isinstance(v, bool) for v in (value.start, value.stop, value.step)
        )
        values = list(value.range())
        if not values:
            raise ValueError(f"empty range for '{name}' in '{source}'")
        if is_int:
            step = abs(int(value.step))
            if log and step != 1:
                raise ValueError(f"'{source}': a log-scaled int range needs step 1")
            return SearchParam(
                name, "int", low=min(values), high=max(values), step=step, log=log, source=source, tags=tags
            )
        rounded = [float(f"{v:.12g}") for v in values]
        return _categorical(name, rounded, source, tags)

    if isinstance(value, IntervalSweep):
        assert value.start is not None and value.end is not None
        if _interval_has_int_ends(override.input_line or source):
            return SearchParam(
                name,
                "int",
                low=int(value.start),
                high=int(value.end),
                step=1,
                log=log,
                source=source,
                tags=tags,
            )
        return SearchParam(
            name, "float", low=float(value.start), high=float(value.end), log=log, source=source, tags=tags
        )

    if override.is_choice_sweep():  # glob(...) over config-group options
        options = sorted(override.sweep_iterator())
        return _categorical(name, options, source, tags)

    raise ValueError(f"unsupported sweep '{source}' ({override.value_type})")


def _params_value_to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "choice(" + ",".join(format_value(v) for v in value) + ")"
    return format_value(value)


def parse_search_space(
    params: Mapping[str, Any] | None,
    arguments: Sequence[str] = (),
    *,
    config_loader: Any = None,
) -> tuple[dict[str, SearchParam], list[str]]:
    """Split ``hydra.sweeper.params`` + command-line overrides into a search space and fixed overrides.

    ``params`` maps override key -> sweep string (or a YAML list = choice, or a plain value =
    fixed override); ``arguments`` are the command-line overrides Hydra hands the sweeper.  A
    later entry for the same key wins, so ``key=3`` on the command line pins a searched key and
    ``key=choice(...)`` / ``key=a,b`` on the command line adds (or replaces) a searched key.

    Returns ``(space, fixed)``: ``space`` maps key -> :class:`SearchParam` (in first-seen order);
    ``fixed`` is the list of non-sweep override strings, in order.
    """
    lines = [f"{key}={_params_value_to_text(value)}" for key, value in (params or {}).items()]
    lines.extend(arguments)
    space: dict[str, SearchParam] = {}
    fixed: dict[str, str] = {}
    for line in lines:
        override, used_placeholder = parse_override(line, config_loader)
        key = override.get_key_element()
        if override.is_sweep_override():
            fixed.pop(key, None)
            space[key] = override_to_param(override, line, used_placeholder)
        else:
            space.pop(key, None)
            fixed.pop(key, None)
            fixed[key] = line
    return space, list(fixed.values())


def without_class_groups(average_over: Mapping[str, Any] | None, config: Any) -> dict:
    """``average_over`` less its ``group.*`` axes when the sweep's dataset has no fixed class list (the
    user's own data: one set of normal classes, scored on its validation split under ``group.split=dev``),
    so that the searches written for the benchmarks run on own data unchanged."""
    average_over = dict(average_over or {})
    target = OmegaConf.select(config, "dataset._target_") if config is not None else None
    if not target or getattr(get_class(target), "n_classes", 10) is not None:
        return average_over
    dropped = [k for k in average_over if k.startswith("group.")]
    if dropped:
        log.info("own data (%s): one group of normal classes, so average_over drops %s", target, dropped)
    return {k: v for k, v in average_over.items() if k not in dropped}


def expand_average_over(average_over: Mapping[str, Any] | None, config_loader: Any = None) -> list[list[str]]:
    """Cartesian product of the ``average_over`` overrides: ``{k: [0, 1]}`` -> ``[["k=0"], ["k=1"]]``.

    Values may be YAML lists or a Hydra discrete sweep string (``"0,1,2"``, ``"range(3)"``).
    An empty mapping gives ``[[]]`` (one job per trial).
    """
    import itertools

    axes: list[list[str]] = []
    for key, values in (average_over or {}).items():
        if isinstance(values, str):
            override, used = parse_override(f"{key}={values}", config_loader)
            if override.is_sweep_override():
                param = override_to_param(override, values, used)
                if param.kind != "categorical" and not (param.kind == "int" and param.step):
                    raise ValueError(f"average_over.{key}: '{values}' is not a discrete list of values")
                if param.kind == "categorical":
                    texts = list(param.choice_strings)
                else:
                    texts = [str(v) for v in range(int(param.low), int(param.high) + 1, int(param.step))]
                axes.append([f"{key}={t}" for t in texts])
            else:
                axes.append([f"{key}={values}"])
            continue
        if not isinstance(values, (list, tuple)):
            values = [values]
        if not values:
            raise ValueError(f"average_over.{key} is an empty list")
        axes.append([f"{key}={format_value(v)}" for v in values])
    return [list(combo) for combo in itertools.product(*axes)]
