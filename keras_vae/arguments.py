"""Checks of plain arguments, shared by the package's entry points."""

import math


def check_int(name: str, value, minimum: int, meaning: str = ""):
    """Returns `value` if it is an int (not a bool) >= `minimum`, else raises `ValueError`.

    The message names the argument, what was expected (with `meaning`, e.g. "(0 skips it)")
    and what was received.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        meaning = f" {meaning}" if meaning else ""
        raise ValueError(f"Argument `{name}` must be an int >= {minimum}{meaning}. "
                         f"Received: {name}={value!r}")
    return value


def check_divisor(name: str, value, total: int, meaning: str):
    """Returns `value` if it is an int >= 1 that divides `total` (what `total` is: `meaning`),
    else raises `ValueError` naming the argument."""
    check_int(name, value, 1)
    if total % value:
        raise ValueError(f"Argument `{name}` must divide {meaning} {total}. "
                         f"Received: {name}={value!r}")
    return value


def check_positive(name: str, value, meaning: str = ""):
    """Returns `value` if it is a finite number (never a bool) > 0, else raises `ValueError`
    naming the argument."""
    if (not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0
            or not math.isfinite(value)):
        meaning = f" {meaning}" if meaning else ""
        raise ValueError(f"Argument `{name}` must be a finite number > 0{meaning}. "
                         f"Received: {name}={value!r}")
    return value


def check_number(name: str, value, minimum: float, integer: bool = False):
    """Returns `value` if it is a finite number (an int with `integer`; never a bool) >=
    `minimum`, else raises `ValueError` naming the argument. (NaN compares False with
    everything: unchecked, `beta=nan` would pass `value < minimum` and train on NaN.)"""
    kind = int if integer else (int, float)
    if not isinstance(value, kind) or isinstance(value, bool) or value < minimum:
        what = "an int" if integer else "a number"
        raise ValueError(f"Argument `{name}` must be {what} >= {minimum}. "
                         f"Received: {name}={value!r}")
    if not math.isfinite(value):
        raise ValueError(f"Argument `{name}` must be a finite number >= {minimum}. "
                         f"Received: {name}={value!r}")
    return value


def check_count(n) -> None:
    """Raises `ValueError` unless `n` (a number of samples) is an int >= 1; tensors (an
    exported signature's input) pass."""
    if isinstance(n, int) and (isinstance(n, bool) or n < 1):
        raise ValueError(f"Argument `n` must be an int >= 1. Received: n={n!r}")


def check_int_list(name: str, values, minimum: int = 1, allow_int: bool = False) -> list:
    """Returns `values` as a list if it is a non-empty list or tuple of ints (never bools)
    >= `minimum` (a bare int too, as a list of one, with `allow_int`), else raises
    `ValueError` naming the argument."""
    if allow_int and isinstance(values, int) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"Argument `{name}` must be a non-empty list of ints >= {minimum}. "
                         f"Received: {name}={values!r}")
    return [check_int(name, value, minimum, f"in each entry (of {list(values)})")
            for value in values]
