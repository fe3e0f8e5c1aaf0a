"""Checks of plain arguments, shared by the package's entry points."""


def check_int(name: str, value, minimum: int, meaning: str = "") -> None:
    """Raises `ValueError` unless `value` is an int (not a bool) >= `minimum`.

    The message names the argument, what was expected (with `meaning`, e.g. "(0 skips it)")
    and what was received.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        meaning = f" {meaning}" if meaning else ""
        raise ValueError(f"Argument `{name}` must be an int >= {minimum}{meaning}. "
                         f"Received: {name}={value!r}")
