"""The IDX format in which MNIST is distributed (gzip-compressed or not): read it whole,
stream it record by record, or write it."""

import gzip
import zlib
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open(path, mode="rb"):
    if mode == "rb" and not os.path.isfile(path):
        raise ValueError(f"Argument `path` must name an existing IDX file. Received: path={path!r}")
    return (gzip.open if str(path).endswith(".gz") else open)(path, mode)


def _parse_header(head, path):
    """`(dtype, dims, header_bytes)` from the first bytes of an IDX file.

    The header is two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension (LeCun et al., "THE MNIST DATABASE of handwritten digits").
    """
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _DTYPES:
        raise ValueError(f"Argument `path` must name an IDX file. Received: path={path!r}")
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        raise ValueError(f"IDX file {os.fspath(path)!r} is truncated: its header is incomplete")
    dims = tuple(int(d) for d in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))
    return np.dtype(_DTYPES[head[2]]), dims, 4 + 4 * ndim


def read_idx(path: str) -> np.ndarray:
    """Reads an IDX file (`*-idx3-ubyte` or `*-idx1-ubyte`, optionally `.gz`) into an array."""
    try:
        with _open(path) as f:
            raw = f.read()
    except (EOFError, OSError, zlib.error) as error:  # gzip: truncated or not gzip at all
        raise ValueError(f"IDX file {os.fspath(path)!r} could not be read: it is truncated or "
                         f"not a valid gzip file ({type(error).__name__}: {error})") from error
    dtype, dims, offset = _parse_header(raw[:4 + 4 * 255], path)
    count = int(np.prod(dims))
    if len(raw) - offset != count * dtype.itemsize:
        raise ValueError(
            f"IDX file {os.fspath(path)!r} is truncated or corrupt: its header announces shape "
            f"{dims} ({count * dtype.itemsize} bytes) but it holds "
            f"{len(raw) - offset} bytes of data"
        )
    return np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(dims)


def idx_dataset(path: str):
    """Streams the records of a uint8 IDX file as a `tf.data.Dataset`, without loading it.

    The file is read record by record (`tf.data.FixedLengthRecordDataset`, gunzipped on the
    fly for `.gz`), so memory stays the same whatever its size; a file shorter than its
    header says fails when the stream reaches its end. Images get a channel axis:
    an `*-idx3-ubyte` file of `(n, 28, 28)` yields uint8 tensors `(28, 28, 1)`.

    Returns:
        `(dataset, shape)`: the dataset and the file's full shape, `(n, *record_shape)`.
    """
    import tensorflow as tf

    with _open(path) as f:
        dtype, dims, header_bytes = _parse_header(f.read(4 + 4 * 255), path)
    if dtype != np.uint8 or len(dims) < 2:
        raise ValueError(
            "Argument `path` must name a uint8 IDX file of records (at least 2 dimensions). "
            f"Received: path={path!r}, dtype {dtype}, shape {dims}"
        )
    record_shape = dims[1:] + ((1,) if len(dims) == 3 else ())
    dataset = tf.data.FixedLengthRecordDataset(
        os.fspath(path),
        record_bytes=int(np.prod(dims[1:])),
        header_bytes=header_bytes,
        compression_type="GZIP" if str(path).endswith(".gz") else None,
    )
    dataset = dataset.map(lambda record: tf.reshape(tf.io.decode_raw(record, tf.uint8),
                                                    record_shape))
    # The header's count: Keras then knows the steps per epoch (progress bar, no warning).
    return dataset.apply(tf.data.experimental.assert_cardinality(dims[0])), dims


def idx_header(shape) -> bytes:
    """The header of a uint8 IDX file holding an array of `shape`."""
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(int(d).to_bytes(4, "big") for d in shape)


def write_idx(path: str, array) -> None:
    """Writes a uint8 array as an IDX file (gzip-compressed when `path` ends with `.gz`)."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        integral = np.issubdtype(array.dtype, np.integer) or np.all(np.mod(array, 1) == 0)
        if array.size and (not integral or array.min() < 0 or array.max() > 255):
            raise ValueError(
                "Argument `array` must hold integers in [0, 255] (uint8 pixels, not images "
                f"scaled to [0, 1]). Received: dtype {array.dtype}, values in "
                f"[{array.min()}, {array.max()}]"
            )
        array = array.astype(np.uint8)
    with _open(path, "wb") as f:
        f.write(idx_header(array.shape))
        f.write(array.tobytes())
