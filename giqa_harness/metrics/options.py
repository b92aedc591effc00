"""Reading a metric's ``options`` from the task YAML, with the mistakes a user can make caught early."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import TaskError

# Keys the evaluator adds to every metric's options; they are not the user's metric options.
SHARED_KEYS = frozenset({"judge_prompts"})


def read_options(
    metric: str,
    options: Mapping[str, Any],
    defaults: Mapping[str, Any],
    choices: Mapping[str, tuple[Any, ...]] | None = None,
) -> dict[str, Any]:
    """``defaults`` overridden by ``options``; an unknown key, a value of the wrong type or one outside
    ``choices`` raises `TaskError` naming the metric and the key (the fix is in the task YAML)."""
    where = f"task YAML: metrics: {{name: {metric}, options: ...}}"
    unknown = sorted(set(options) - set(defaults) - SHARED_KEYS)
    if unknown:
        raise TaskError(f"{where}: unknown option(s) {unknown}; {metric} accepts {sorted(defaults)}")
    out = dict(defaults)
    for key, default in defaults.items():
        if key not in options:
            continue
        value = options[key]
        if not _same_type(value, default):
            raise TaskError(
                f"{where}: option {key!r} must be {_type_name(default)}, got {value!r}"
            )
        allowed = (choices or {}).get(key)
        if allowed is not None and value not in allowed:
            raise TaskError(f"{where}: option {key!r} must be one of {list(allowed)}, got {value!r}")
        out[key] = float(value) if isinstance(default, float) else value
    return out


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if default is None:
        return value is None or isinstance(value, str)
    return isinstance(value, type(default))


def _type_name(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, (int, float)):
        return "a number"
    if default is None:
        return "a string"
    return f"a {type(default).__name__}"
