"""A model's own settings: the constructor arguments a command line or a config file may set.

Each model of the command lists its settings in its registry entry
(`keras_vae.app.registry.register_model(name, model_class, settings=...)`); `keras-vae train`
turns them into flags of that model alone, a run's `config.json` stores their values under
`model_settings`, and the entry turns the values into the constructor's arguments
(`ModelEntry.constructor_arguments`). The constructor validates them, as it validates any
argument.
"""

import argparse
import dataclasses
import inspect

_FROM_SIGNATURE = object()


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting of a model, and its command-line flag `--<name with dashes>`.

    Args:
        name: str. The constructor argument (or the `constructor_arguments` key) it sets.
        type: `int`, `float`, `str`, `bool` (a `--name/--no-name` flag) or a function that
            parses the flag's text (raising `argparse.ArgumentTypeError` when it cannot).
        help: str. One line for `--help`.
        default: the value when not given. Defaults to the constructor's own default. `--help`
            shows it after `help`, except None: then `help` says what not giving it means.
        choices: tuple or None. The values allowed, when a closed set.
        nargs: str or None. `"+"` for a list of values separated by spaces (each of `type`),
            as `--hidden-units` takes them.
        within_run: str or None. For a count of epochs: `"end"` where it may reach the run's
            `--epochs` but not pass it (a warm-up that would never finish), `"before_end"` where
            it must end before the run does (a phase that would be the whole run).
    """

    name: str
    type: object
    help: str
    default: object = _FROM_SIGNATURE
    choices: tuple = None
    nargs: str = None
    within_run: str = None

    def __post_init__(self):
        if self.within_run not in (None, "end", "before_end"):
            raise ValueError("Argument `within_run` must be None, 'end' or 'before_end'. "
                             f"Received: within_run={self.within_run!r} for setting "
                             f"{self.name!r}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check_within(self, value, epochs) -> None:
        """Raises `ValueError` when the epoch count `value` does not fit a run of `epochs`."""
        if self.within_run is None or value is None:
            return
        if self.within_run == "end" and value > epochs:
            raise ValueError(f"Argument `{self.name}` counts epochs of the run and must be at most "
                             f"`epochs` ({epochs}). Received: {self.name}={value} with "
                             f"epochs={epochs}")
        if self.within_run == "before_end" and value >= epochs:
            raise ValueError(f"Argument `{self.name}` counts epochs of the run and must be less "
                             f"than `epochs` ({epochs}): a phase as long as the run is the whole "
                             f"run. Received: {self.name}={value} with epochs={epochs}")

    def default_for(self, model_class):
        """The value a model of `model_class` uses when the setting is not given."""
        if self.default is not _FROM_SIGNATURE:
            return self.default
        parameter = inspect.signature(model_class.__init__).parameters.get(self.name)
        if parameter is None or parameter.default is inspect.Parameter.empty:
            raise TypeError(f"Setting {self.name!r} of {model_class.__name__} needs a default: "
                            "it is no keyword argument of the constructor")
        return parameter.default

    def add_to(self, parser, model_class) -> None:
        """Adds the setting's flag to an argparse parser (or argument group)."""
        default = self.default_for(model_class)
        if self.nargs and isinstance(default, (list, tuple)):
            default = " ".join(str(value) for value in default)
        shown = "" if default is None else f" (default {default})"
        kwargs = {"help": self.help + shown, "dest": self.name}
        if self.type is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = self.type
            if self.choices:
                kwargs["choices"] = self.choices
            if self.nargs:
                kwargs["nargs"] = self.nargs
        parser.add_argument(self.flag, **kwargs)


def fitted_or_number(text):
    """A flag's value that is either the word "fitted" or a number."""
    if text == "fitted":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'fitted' or a number, got {text!r}")


__all__ = ["Setting", "fitted_or_number"]
