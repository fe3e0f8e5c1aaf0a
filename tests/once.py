"""Work made once per test run and shared by pytest-xdist's workers (no TensorFlow here: the
controlling process of a run imports this module too)."""

import os
import time


def made_once(tmp_path_factory, name, make, timeout=900):
    """The directory `name`, made by `make(path)` once per test run: under pytest-xdist the
    first worker to ask makes it and the others wait for it (a session fixture alone runs once
    per worker). Returns its path."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, shared by its workers
    path, done = base / name, base / f"{name}.done"
    try:
        os.close(os.open(base / f"{name}.lock", os.O_CREAT | os.O_EXCL))
    except FileExistsError:  # another worker is making it
        deadline = time.monotonic() + timeout
        while not done.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} was not made within {timeout} s by another worker")
            time.sleep(0.2)
        if done.read_text() != "ok":
            raise RuntimeError(f"another worker failed to make {path}: {done.read_text()}")
        return path
    try:
        make(path)
    except BaseException as error:
        done.write_text(f"{type(error).__name__}: {error}")
        raise
    done.write_text("ok")
    return path
