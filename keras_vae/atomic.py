"""Files written whole or not at all."""

import contextlib
import os


@contextlib.contextmanager
def atomic_write(path, suffix=""):
    """Yields a temporary path beside `path` to write to; renames it onto `path` when the block
    ends, so that a kill or an error during the write leaves `path` as it was, never half
    written. The temporary file is removed if the block fails.

    Args:
        path: str. The file to write.
        suffix: str. Ending of the temporary name, for writers that add one (`np.save` adds
            `.npy`, `keras.Model.save` wants `.keras`).

    Example:

    ```python
    with atomic_write("metrics.json") as temporary:
        with open(temporary, "w") as f:
            json.dump(metrics, f)
    ```
    """
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    temporary = os.path.join(directory, f".{name}.tmp{suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
