"""The `keras-vae` command: `keras-vae train|evaluate|export`, and what every command shares,
a quiet TensorFlow start and one-line errors.

A refused input is answered as argparse answers a bad flag: one line `<script>: error: ...`
on stderr and exit status 2 (1 for a run that diverged or was interrupted, or an evaluation
stage that failed). `--verbose 2`, or the environment
variable KERAS_VAE_TRACEBACK=1, shows the Python traceback instead, and TensorFlow's start-up
lines. Nothing here imports TensorFlow until `quiet_tensorflow` asks for it.
"""

import contextlib
import importlib
import os
import sys

TRACEBACK_ENV = "KERAS_VAE_TRACEBACK"


def _debugging(argv) -> bool:
    argv = list(argv)
    verbose_two = any(
        (a == "--verbose" and i + 1 < len(argv) and argv[i + 1] == "2") or a == "--verbose=2"
        for i, a in enumerate(argv))
    return verbose_two or os.environ.get(TRACEBACK_ENV, "") not in ("", "0")


@contextlib.contextmanager
def _stderr_silenced():
    """Sends file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines (CUDA probing,
    absl's pre-initialization notice) ignore TF_CPP_MIN_LOG_LEVEL."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def quiet_tensorflow(argv=None) -> None:
    """Imports TensorFlow and finds its devices without its start-up log lines (unless
    debugging, see above): the import's CUDA probing and the device search's "failed call to
    cuInit" on a machine without a GPU."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if _debugging(sys.argv[1:] if argv is None else argv):
        importlib.import_module("tensorflow")
        return
    with _stderr_silenced():
        importlib.import_module("tensorflow").config.list_physical_devices()


def run(main, argv=None):
    """Calls `main(argv)`; turns a refused input into one `error:` line and exit status 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return main(argv)
    except Exception as error:  # noqa: BLE001 - sorted below, the rest re-raised
        from keras_vae.app.reporting import EvaluationStageFailed
        from keras_vae.callbacks import RunInterrupted, TrainingDiverged

        stopped = (TrainingDiverged, RunInterrupted, EvaluationStageFailed)
        refused = (ValueError, TypeError, OSError, *stopped)
        if _debugging(argv) or not isinstance(error, refused):
            raise
        prog = os.path.basename(sys.argv[0]) or "keras_vae"
        message = " ".join(str(error).split())
        print(f"{prog}: error: {message}", file=sys.stderr)
        sys.exit(1 if isinstance(error, stopped) else 2)


COMMANDS = {
    "train": "train a model of the family and write a run directory (resumable)",
    "evaluate": "score a run or a .keras file: log-likelihood, ELBO, figures, report",
    "export": "export a run or a .keras file as a SavedModel for TensorFlow Serving",
}


def _usage() -> str:
    lines = ["usage: keras-vae {train,evaluate,export} ...", "",
             "Variational autoencoders in Keras 3: train, evaluate and export runs.", "",
             "commands:"]
    lines += [f"  {name:<10} {text}" for name, text in COMMANDS.items()]
    lines += ["", "`keras-vae COMMAND --help` lists a command's flags."]
    return "\n".join(lines)


def command_main(name):
    """The `main(argv)` of the command `name` (imported only once TensorFlow is quiet)."""
    return importlib.import_module(f"keras_vae.app.commands.{name}").main


def main(argv=None):
    """Entry point of the `keras-vae` console script (`setup.cfg`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage(), file=sys.stdout if argv else sys.stderr)  # no command: an error
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"{_usage()}\nkeras-vae: error: argument command: invalid choice: {name!r} "
              f"(choose from {', '.join(COMMANDS)})", file=sys.stderr)
        sys.exit(2)
    quiet_tensorflow(rest)
    sys.argv[0] = f"keras-vae {name}"
    run(command_main(name), rest)
    return 0  # the console script exits with main's value: 0, whatever the command returned


def script(name):
    """What `python scripts/<name>.py` runs: the command `name`, as `keras-vae name` runs it."""
    quiet_tensorflow()
    run(command_main(name))
