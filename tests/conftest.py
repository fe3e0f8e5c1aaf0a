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
