import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


import pytest  # noqa: E402

from tests.once import made_once  # noqa: E402


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
