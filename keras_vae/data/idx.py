"""Reader of the IDX format in which MNIST is distributed (gzip-compressed or not)."""

import gzip
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str) -> np.ndarray:
    """Reads an IDX file (`*-idx3-ubyte` or `*-idx1-ubyte`, optionally `.gz`) into an array.

    The header is two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension (LeCun et al., "THE MNIST DATABASE of handwritten digits").
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ValueError(f"Argument `path` must name an IDX file. Received: path={path!r}")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    dtype = np.dtype(_DTYPES[raw[2]])
    count = int(np.prod(dims))
    offset = 4 + 4 * ndim
    if len(raw) - offset != count * dtype.itemsize:
        raise ValueError(
            f"IDX file {os.fspath(path)!r} is truncated or corrupt: its header announces shape "
            f"{tuple(dims)} ({count * dtype.itemsize} bytes) but it holds "
            f"{len(raw) - offset} bytes of data"
        )
    return np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(dims)
