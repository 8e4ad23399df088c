"""Input checks shared by the track builders: precise ``ValueError`` messages, numpy out."""

from __future__ import annotations

from typing import Any

import numpy as np

from trackcore.candidates import as_numpy


def check_count(name: str, value: int, *, minimum: int = 0) -> int:
    """An integer ``>= minimum`` (numpy integers accepted)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"Expected '{name}' to be an integer (got {type(value).__name__})")
    if value < minimum:
        raise ValueError(f"Expected '{name}' >= {minimum} (got {value})")
    return int(value)


def check_positive(name: str, value: float) -> float:
    """A finite number ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"Expected '{name}' to be a number (got {type(value).__name__})")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"Expected '{name}' to be a finite number > 0 (got {value!r})")
    return float(value)


def check_nonnegative(name: str, value: float) -> float:
    """A finite number ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"Expected '{name}' to be a number (got {type(value).__name__})")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"Expected '{name}' to be a finite number >= 0 (got {value!r})")
    return float(value)


def check_positive_tuple(name: str, value: Any, parts: tuple[str, ...]) -> tuple[float, ...]:
    """``value`` as a tuple of floats, one finite value ``> 0`` per named part (errors name the part)."""
    values = tuple(value)
    if len(values) != len(parts):
        raise ValueError(f"{name} must be ({', '.join(parts)}) (got {value!r})")
    return tuple(check_positive(f"{name} {part}", v) for part, v in zip(parts, values, strict=True))


def check_index(name: str, values: Any, *, size: int | None = None, upper: int | None = None) -> np.ndarray:
    """A 1-D int64 index array, optionally of a given length and within ``[0, upper)``."""
    a = as_numpy(values)
    if a.ndim != 1:
        raise ValueError(f"Expected '{name}' to be one-dimensional (got {a.ndim} dimensions)")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"Expected '{name}' to hold integers (got dtype {a.dtype})")
    a = a.astype(np.int64, copy=False)
    if size is not None and a.size != size:
        raise ValueError(f"Expected '{name}' of length {size} (got {a.size})")
    if a.size and a.min() < 0:
        raise ValueError(f"Expected '{name}' >= 0 (got {a.min()})")
    if upper is not None and a.size and a.max() >= upper:
        raise ValueError(f"'{name}' holds index {a.max()}, out of range for {upper} entries")
    return a


def check_edge_index(edge_index: Any, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Source and target rows of a ``(2, E)`` integer edge index with entries in ``[0, num_nodes)``."""
    num_nodes = check_count("num_nodes", num_nodes)
    a = as_numpy(edge_index)
    if a.ndim != 2 or a.shape[0] != 2:
        raise ValueError(f"Expected 'edge_index' of shape (2, E) (got {tuple(a.shape)})")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"Expected 'edge_index' to hold integers (got dtype {a.dtype})")
    a = a.astype(np.int64, copy=False)
    if a.size and (a.min() < 0 or a.max() >= num_nodes):
        bad = a.min() if a.min() < 0 else a.max()
        raise ValueError(f"'edge_index' holds node {bad}, out of range for num_nodes={num_nodes}")
    return a[0], a[1]


def check_values(name: str, values: Any, size: int) -> np.ndarray:
    """A 1-D float64 array of ``size`` finite values (NaN or inf raise)."""
    a = as_numpy(values)
    if a.ndim != 1:
        raise ValueError(f"Expected '{name}' to be one-dimensional (got {a.ndim} dimensions)")
    if a.size != size:
        raise ValueError(f"Expected one '{name}' value per entry: {size} (got {a.size})")
    a = a.astype(np.float64, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"'{name}' holds {int((~np.isfinite(a)).sum())} NaN or infinite value(s)")
    return a


def check_points(name: str, x: Any) -> np.ndarray:
    """A finite ``(N, D)`` float32 numpy array."""
    a = as_numpy(x)
    if a.ndim != 2:
        raise ValueError(f"Expected '{name}' of shape (N, D) (got {a.ndim} dimensions)")
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.isfinite(a).all():
        raise ValueError(f"'{name}' holds {int((~np.isfinite(a)).sum())} NaN or infinite value(s)")
    return a


def check_hit_id(hit_id: Any | None, num_hits: int) -> np.ndarray | None:
    """``hit_id`` as int64 of length ``num_hits`` (None stays None: ids are the indices)."""
    if hit_id is None:
        return None
    a = as_numpy(hit_id)
    if a.ndim != 1 or a.size != num_hits:
        raise ValueError(f"Expected one 'hit_id' per hit: {num_hits} (got shape {tuple(a.shape)})")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"Expected 'hit_id' to hold integers (got dtype {a.dtype})")
    return a.astype(np.int64, copy=False)


def on_cpu(x: Any) -> bool:
    """True for numpy input and CPU torch tensors."""
    device = getattr(x, "device", None)
    return device is None or getattr(device, "type", "cpu") == "cpu"


NULL_WORDS = ("null", "none", "")


def is_null_text(value: Any) -> bool:
    """Whether ``value`` is the command line's null as text: jsonargparse passes ``--...=null`` of a ``str | None``
    setting, and a nested override of a mapping setting, as the string ``"None"`` (any case, ``null``, empty)."""
    return isinstance(value, str) and value.strip().lower() in NULL_WORDS


def setting_pairs(settings: Any, names: Any, flag: str, what: str) -> list[tuple[str, str]]:
    """Command-line ``KEY=VALUE`` settings as (key, value text), each key one of ``names``.

    Raises:
        ValueError: a setting without ``=`` or a key, or a key not in ``names`` (naming ``flag`` and the ``what``
            settings to choose from).
    """
    known = set(names)
    pairs = []
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{flag} takes KEY=VALUE (got {setting!r})")
        if key.strip() not in known:
            raise ValueError(f"{flag} {setting!r}: no such {what} setting (choose from {sorted(known)})")
        pairs.append((key.strip(), value.strip()))
    return pairs
