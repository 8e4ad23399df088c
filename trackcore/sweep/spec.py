"""A W&B sweep file, read and checked, as the offline runner needs it.

The file is W&B's own format (https://docs.wandb.ai/guides/sweeps/define-sweep-configuration),
so ``wandb sweep FILE`` works with it unchanged::

    program: trackcore
    command:
      - ${program}
      - fit
      - --config
      - oc/configs/small.yaml
      - ${args}
    method: bayes                      # grid | random | bayes
    metric: {name: val/fom, goal: maximize}
    parameters:
      model.init_args.repulsive_weight: {distribution: log_uniform_values, min: 0.1, max: 3.0}
      model.init_args.q_min: {values: [0.01, 0.1]}
      trainer.max_epochs: {value: 10}
    early_terminate: {type: hyperband, min_iter: 3}

W&B expands ``${args}`` to ``--name=value`` for every parameter, which LightningCLI reads as a
dotted override of the config. Parameter forms understood: ``value``, ``values``,
``min``/``max`` (integers when both are ints) with an optional ``distribution`` (``uniform``,
``int_uniform``, ``log_uniform_values``, ``q_uniform`` with ``q``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

METHODS = ("grid", "random", "bayes")
GOALS = ("maximize", "minimize")
DISTRIBUTIONS = ("uniform", "int_uniform", "log_uniform_values", "q_uniform", "categorical", "constant")
_TOP_KEYS = {
    "program",
    "command",
    "method",
    "metric",
    "parameters",
    "early_terminate",
    "name",
    "description",
    "project",
    "entity",
    "run_cap",
}


@dataclass(frozen=True)
class Parameter:
    """One swept parameter: a constant, a list of values, or a range."""

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    step: float | None = None

    @property
    def is_constant(self) -> bool:
        return self.values is not None and len(self.values) == 1


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep file.

    Args:
        path: the file.
        method: ``grid``, ``random`` or ``bayes``.
        metric, goal: the logged metric to optimise (its best value over validation epochs).
        parameters: the swept parameters, in file order.
        train_args: the ``trackcore`` arguments of ``command`` around ``${args}`` (e.g.
            ``["fit", "--config", "...yaml"]``).
        early_terminate: ``min_iter`` of a ``hyperband`` block (None: no early termination).
        run_cap: most trials (W&B's ``run_cap``), or None.
    """

    path: Path
    method: str
    metric: str
    goal: str
    parameters: tuple[Parameter, ...]
    train_args: tuple[str, ...]
    early_terminate: int | None = None
    run_cap: int | None = None
    name: str = field(default="")

    def grid_size(self) -> int | None:
        """Number of grid points (None when a parameter is a continuous range)."""
        size = 1
        for p in self.parameters:
            if p.values is None:
                return None
            size *= len(p.values)
        return size


def _error(path: Path, message: str) -> ValueError:
    return ValueError(f"{path}: {message}")


def _parameter(path: Path, name: str, block: Any) -> Parameter:
    if not isinstance(block, dict):
        raise _error(path, f"parameter {name!r} must be a mapping like {{values: [...]}} (got {block!r})")
    unknown = set(block) - {"value", "values", "min", "max", "distribution", "q"}
    if unknown:
        raise _error(path, f"parameter {name!r} has unknown keys {sorted(unknown)}")
    dist = block.get("distribution")
    if dist is not None and dist not in DISTRIBUTIONS:
        raise _error(path, f"parameter {name!r}: unknown distribution {dist!r} (expected one of {DISTRIBUTIONS})")
    if "value" in block:
        return Parameter(name, values=(block["value"],))
    if "values" in block:
        values = block["values"]
        if not isinstance(values, list) or not values:
            raise _error(path, f"parameter {name!r}: 'values' must be a non-empty list")
        return Parameter(name, values=tuple(values))
    if "min" in block and "max" in block:
        low, high = block["min"], block["max"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)) or not low < high:
            raise _error(path, f"parameter {name!r}: needs numbers min < max (got {low!r}, {high!r})")
        integer = dist == "int_uniform" or (dist is None and isinstance(low, int) and isinstance(high, int))
        log = dist == "log_uniform_values"
        if log and low <= 0:
            raise _error(path, f"parameter {name!r}: log_uniform_values needs min > 0 (got {low})")
        return Parameter(
            name,
            low=float(low),
            high=float(high),
            log=log,
            integer=integer,
            step=float(block["q"]) if dist == "q_uniform" and "q" in block else None,
        )
    raise _error(path, f"parameter {name!r} needs 'value', 'values' or 'min' and 'max'")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _read_yaml(path: Path) -> Any:
    """The parsed file; a file that is not UTF-8 text or not YAML is a one-line error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise _error(path, f"is not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        context = getattr(err, "context", None)
        problem = " ".join(str(err).split()) if getattr(err, "problem", None) is None else (
            f"{err.problem} ({context})" if context else err.problem)
        raise _error(path, f"is not valid YAML: {where}{problem}") from None


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a W&B sweep file (module docstring).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not UTF-8 YAML text, not a mapping, unknown keys, a bad method/metric/parameter,
            run_cap or early_terminate, or a command without ``${args}`` (the message names the file).
    """
    path = Path(path)
    if path.is_dir():
        raise _error(path, "is a folder, not a sweep file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: sweep file not found")
    raw = _read_yaml(path)
    if raw is None:
        raise _error(path, "is empty; a sweep file is a YAML mapping (method, metric, parameters, command)")
    if not isinstance(raw, dict):
        raise _error(path, f"holds a YAML {type(raw).__name__}, not a mapping of sweep keys "
                           "(method, metric, parameters, command)")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise _error(path, f"unknown keys {sorted(unknown)} (expected some of {sorted(_TOP_KEYS)})")
    method = raw.get("method")
    if method not in METHODS:
        raise _error(path, f"method must be one of {METHODS} (got {method!r})")
    metric = raw.get("metric")
    if not isinstance(metric, dict) or "name" not in metric:
        raise _error(path, "needs metric: {name: ..., goal: maximize|minimize}")
    goal = metric.get("goal", "maximize")
    if goal not in GOALS:
        raise _error(path, f"metric goal must be one of {GOALS} (got {goal!r})")
    params = raw.get("parameters")
    if not isinstance(params, dict) or not params:
        raise _error(path, "needs a non-empty 'parameters' mapping")
    command = raw.get("command")
    if not isinstance(command, list) or "${args}" not in command:
        raise _error(path, "needs command: [${program}, fit, --config, CONFIG.yaml, ${args}]")
    at = command.index("${args}")
    train_args = [str(c) for c in command[:at] + command[at + 1 :] if c not in ("${program}", "${interpreter}")]
    if not train_args or train_args[0] != "fit":
        raise _error(path, f"the command must run `trackcore fit ...` (got {train_args})")
    early = raw.get("early_terminate")
    min_iter = None
    if early is not None:
        if not isinstance(early, dict) or early.get("type") != "hyperband":
            raise _error(path, "early_terminate must be {type: hyperband, min_iter: N}")
        min_iter = early.get("min_iter", 1)
        if not _positive_int(min_iter):
            raise _error(path, f"early_terminate min_iter must be an integer >= 1 (got {min_iter!r})")
    run_cap = raw.get("run_cap")
    if run_cap is not None and not _positive_int(run_cap):
        raise _error(path, f"run_cap must be an integer >= 1 (got {run_cap!r})")
    return SweepSpec(
        path=path,
        method=method,
        metric=str(metric["name"]),
        goal=goal,
        parameters=tuple(_parameter(path, str(k), v) for k, v in params.items()),
        train_args=tuple(train_args),
        early_terminate=min_iter,
        run_cap=run_cap,
        name=str(raw.get("name") or path.stem),
    )
