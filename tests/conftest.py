import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


import pytest  # noqa: E402

from tests.once import made_once  # noqa: E402

# Seconds each slow test took (setup, call and teardown, one process, one idle core): the
# files holding the longest tests start first, each file's longest test first, so that under
# pytest-xdist (`--dist load --maxschedchunk 1`, each worker asking for its next test when it
# is done) the run does not end with one worker on a long test and the others idle. A file's
# tests stay together: its module-scoped fixtures (a trained model, an export, a run) are
# made once per worker, not again each time a worker comes back to the file. A test missing
# here runs after its file's listed ones, in file order.
# Regenerate: KERAS_VAE_STORE_DURATIONS=tests/durations.json python -m pytest -p no:xdist
DURATIONS_FILE = os.path.join(os.path.dirname(__file__), "durations.json")


def pytest_collection_modifyitems(items):
    import json

    with open(DURATIONS_FILE) as f:
        durations = json.load(f)
    def seconds(item):
        return durations.get(item.nodeid, 0.0)

    longest = {}
    for item in items:
        longest[item.module] = max(longest.get(item.module, 0.0), seconds(item))
    files = {module: rank for rank, module in enumerate(longest)}  # collection order
    # Stable: a file's tests of equal time keep their order.
    items.sort(key=lambda item: (-longest[item.module], files[item.module], -seconds(item)))


_measured = {}


def pytest_runtest_logreport(report):
    if os.environ.get("KERAS_VAE_STORE_DURATIONS"):
        _measured[report.nodeid] = _measured.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    path = os.environ.get("KERAS_VAE_STORE_DURATIONS")
    if path and _measured:
        import json

        slow = {name: round(seconds, 1) for name, seconds in
                sorted(_measured.items(), key=lambda item: -item[1]) if seconds >= 1.0}
        with open(path, "w") as f:
            json.dump(slow, f, indent=0)
            f.write("\n")


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """A finished run on the bundled digits (2 epochs, latent size 2, K = 20, the
    amortization gap of 10 images, image grids every epoch), made once per test run and
    shared by the tests that read a run directory or score it (they write only beside it)."""
    from keras_vae.app.commands import train

    def make(path):
        train.main(["--epochs", "2", "--latent-dim", "2", "--eval-k", "20",
                    "--amortization-images", "10", "--image-log-every", "1",
                    "--output-dir", str(path), "--verbose", "0"])

    return str(made_once(tmp_path_factory, "digits_run", make))


@pytest.fixture(scope="session")
def uninterrupted_run(tmp_path_factory):
    """A run of RESUME_EPOCHS epochs by the installed `keras-vae train` command in a fresh
    process, without TF_CPP_MIN_LOG_LEVEL, made once per test run: the reference of the
    resume tests, and the quiet run whose stderr (`stderr.txt` beside it) must be empty."""
    import subprocess
    import sys

    from tests.helpers import RESUME_EPOCHS, RESUME_FLAGS

    command = os.path.join(os.path.dirname(sys.executable), "keras-vae")  # pip's script

    def make(path):
        result = subprocess.run(
            [command, "train", "--epochs", str(RESUME_EPOCHS), "--output-dir", str(path),
             *RESUME_FLAGS], capture_output=True, text=True, timeout=600,
            env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
        (path.parent / "uninterrupted.stderr").write_text(result.stderr)
        (path.parent / "uninterrupted.status").write_text(str(result.returncode))

    return made_once(tmp_path_factory, "uninterrupted", make)
