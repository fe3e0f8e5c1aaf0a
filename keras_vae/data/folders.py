"""A user's own images: a folder of image files (flat, or one subfolder per class) and
`.npy` / `.npz` arrays, checked and read into the package's `[0, 1]` float images.

A folder is decoded by TensorFlow inside a `tf.data` pipeline (parallel map, prefetch): read
whole into memory when it fits (`read_images`), or kept as an `ImageFiles` list that
`keras_vae.data.make_dataset` streams from the files every epoch. Everything that would
change what is trained on is refused with the file it concerns, never skipped in silence:
a corrupt file (unless `skip_bad_images`, which reports how many it skipped), images of
several sizes without `image_size`, mixed channel counts without `color_mode`.
"""

import dataclasses
import os

import numpy as np

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what Keras' folder reader reads
ARRAY_EXTENSIONS = (".npy", ".npz")
COLOR_MODES = ("rgb", "grayscale")
_CHANNELS = {"rgb": 3, "grayscale": 1}


def is_image_file(name) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS) and not os.path.basename(name).startswith(".")


def _images_under(folder):
    """The image files under `folder` (recursively), sorted, and how many other files."""
    images, others = [], 0
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if is_image_file(name):
                images.append(os.path.join(root, name))
            elif not name.startswith("."):
                others += 1
    return images, others


def holds_images(path) -> bool:
    """Whether the folder `path` holds an image file, directly or in a subfolder."""
    for _, _, files in os.walk(path, followlinks=True):
        if any(is_image_file(name) for name in files):
            return True
    return False


def list_images(path, arg_name="data_dir"):
    """The image files of a folder and their labels.

    A folder whose subfolders hold the images is labelled: one class per subfolder, in sorted
    order (as `keras.utils.image_dataset_from_directory`); a folder of image files is not.

    Returns:
        `(files, labels, class_names, ignored)`: `labels` an int array (None when flat),
        `ignored` the number of files that are not images (by their extension).
    """
    if not os.path.isdir(path):
        raise ValueError(f"Argument `{arg_name}` must be an existing folder of images. "
                         f"Received: {arg_name}={path!r}, which does not exist")
    entries = sorted(e for e in os.listdir(path) if not e.startswith("."))
    direct = [os.path.join(path, e) for e in entries
              if os.path.isfile(os.path.join(path, e)) and is_image_file(e)]
    subfolders = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    others = sum(1 for e in entries if os.path.isfile(os.path.join(path, e))
                 and not is_image_file(e))
    classes = {name: _images_under(os.path.join(path, name)) for name in subfolders}
    with_images = [name for name in subfolders if classes[name][0]]
    if direct and with_images:
        raise ValueError(
            f"Argument `{arg_name}` must hold either image files (unlabelled) or one subfolder "
            f"of images per class, not both. Received: {path!r} holds {len(direct)} image "
            f"file(s) such as {os.path.basename(direct[0])!r} and the subfolder(s) "
            f"{with_images[:5]} with images")
    if direct:
        return direct, None, None, others
    if not with_images:
        what = "nothing" if not entries else f"no image files among {entries[:5]}" + (
            " ..." if len(entries) > 5 else "")
        raise ValueError(
            f"Argument `{arg_name}` must be a folder of image files {list(IMAGE_EXTENSIONS)} "
            f"(or of one subfolder of them per class). Received: {path!r}, which holds {what}")
    empty = [name for name in subfolders if not classes[name][0]]
    if empty:
        raise ValueError(
            f"Argument `{arg_name}` must hold images in every class subfolder (a class without "
            f"images would shift the labels of the others). Received: {path!r} whose "
            f"subfolder(s) {empty[:5]} hold no image files {list(IMAGE_EXTENSIONS)}")
    files, labels = [], []
    for index, name in enumerate(subfolders):
        files += classes[name][0]
        labels += [index] * len(classes[name][0])
        others += classes[name][1]
    return files, np.asarray(labels, np.int64), subfolders, others


# ------------------------------------------------------------------------ decoding

def decode_file(path, color_mode=None, image_size=None):
    """One image file as a uint8 tensor `(height, width, channels)`, in TensorFlow.

    `color_mode` converts ("rgb": grey images are repeated, an alpha channel dropped;
    "grayscale": the luma of RGB); `image_size` `(height, width)` resizes (bilinear with
    antialiasing, rounded to the 256 levels) images of any other size.
    """
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
    if color_mode is not None:
        channels = tf.shape(image)[-1]
        if color_mode == "rgb":
            image = tf.cond(channels < 3,
                            lambda: tf.image.grayscale_to_rgb(image[..., :1]),
                            lambda: image[..., :3])
        else:
            image = tf.cond(channels < 3, lambda: image[..., :1],
                            lambda: tf.image.rgb_to_grayscale(image[..., :3]))
        image = tf.ensure_shape(image, [None, None, _CHANNELS[color_mode]])
    if image_size is not None:
        height, width = image_size
        resized = tf.image.resize(image, (height, width), antialias=True)
        same = tf.reduce_all(tf.shape(image)[:2] == tf.constant([height, width]))
        image = tf.cond(same, lambda: image,
                        lambda: tf.saturate_cast(tf.round(resized), tf.uint8))
    return image


def _shapes(files, color_mode, image_size):
    """The decoded shape of every file, `(n, 3)`, and the indices of those that failed to
    decode (corrupt, truncated, or no image at all): one parallel pass, nothing kept."""
    import tensorflow as tf

    def shape_of(index, path):
        return index, tf.shape(decode_file(path, color_mode, image_size))

    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(files)), files))
    dataset = dataset.map(shape_of, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.ignore_errors().batch(4096).prefetch(2)
    shapes = np.zeros((len(files), 3), np.int64)
    decoded = np.zeros(len(files), bool)
    for indices, batch in dataset.as_numpy_iterator():
        shapes[indices], decoded[indices] = batch, True
    return shapes, np.flatnonzero(~decoded)


def _sizes_in_words(shapes):
    values, counts = np.unique(shapes, axis=0, return_counts=True)
    order = np.argsort(-counts)
    return ", ".join(f"{counts[i]} of {tuple(int(v) for v in values[i])}" for i in order[:4])


@dataclasses.dataclass
class ImageFiles:
    """Image files that decode to one shape: what a folder becomes before (or instead of)
    being read into memory. `keras_vae.data.make_dataset` streams them; `load()` reads them.

    Attributes:
        files: list of str. The image files, in order.
        labels: int array `(n,)` or None. One class index per file.
        image_shape: tuple `(height, width, channels)` every file decodes to.
        color_mode, image_size: how each file is decoded (`decode_file`).
        class_names: list of str or None.
    """

    files: list
    labels: np.ndarray
    image_shape: tuple
    color_mode: str = None
    image_size: tuple = None
    class_names: list = None

    def __len__(self):
        return len(self.files)

    @property
    def shape(self):
        return (len(self.files), *self.image_shape)

    @property
    def nbytes(self) -> int:
        """Bytes of the images as float32, as training holds them in memory."""
        return 4 * int(np.prod(self.shape))

    def subset(self, indices) -> "ImageFiles":
        indices = np.asarray(indices, np.int64)
        labels = None if self.labels is None else self.labels[indices]
        return dataclasses.replace(self, files=[self.files[i] for i in indices], labels=labels)

    def decoded(self, path):
        """One file as a uint8 tensor of `image_shape` (TensorFlow)."""
        import tensorflow as tf

        image = decode_file(path, self.color_mode, self.image_size)
        return tf.ensure_shape(image, self.image_shape)

    def uint8_dataset(self, order=None):
        """An unbatched `tf.data.Dataset` of the uint8 images (in `order`, an int tensor of
        indices, when given), decoded in parallel, in a deterministic order."""
        import tensorflow as tf

        files = tf.constant(self.files)
        indices = tf.data.Dataset.range(len(self.files)) if order is None else (
            tf.data.Dataset.from_tensor_slices(order))
        return indices.map(lambda i: self.decoded(files[i]), num_parallel_calls=tf.data.AUTOTUNE,
                           deterministic=True)

    def load(self, start=0, stop=None) -> np.ndarray:
        """Images `start:stop` decoded into memory, float32 `(n, *image_shape)` in [0, 1]."""
        stop = len(self.files) if stop is None else min(stop, len(self.files))
        out = np.empty((max(stop - start, 0), *self.image_shape), np.float32)
        import tensorflow as tf

        order = tf.range(start, stop, dtype=tf.int64)
        position = 0
        for batch in self.uint8_dataset(order).batch(1024).prefetch(2).as_numpy_iterator():
            out[position:position + len(batch)] = batch
            position += len(batch)
        out /= np.float32(255.0)
        return out

    def __getitem__(self, item):
        """A slice of the files, still on disk (`np.asarray` of it decodes it), as a slice
        of an array of the images would be: `images[:500]`."""
        if not isinstance(item, slice):
            raise TypeError("ImageFiles takes slices only, such as images[0:500]. "
                            f"Received: {item!r}")
        return self.subset(np.arange(len(self.files))[item])

    def __array__(self, dtype=None, copy=None):
        images = self.load()
        return images if dtype is None else images.astype(dtype, copy=False)


def scan_folder(path, color_mode=None, image_size=None, skip_bad_images=False,
                arg_name="data_dir", log=print) -> ImageFiles:
    """A folder's images checked to decode, all to one shape: an `ImageFiles`.

    Args:
        path: str. A folder of image files, flat or one subfolder per class.
        color_mode: None, "rgb" or "grayscale". None keeps each file's channels, which must
            then agree.
        image_size: None or `(height, width)`. None requires every image to have one size.
        skip_bad_images: bool. Skip files that fail to decode (and say how many) instead of
            refusing the folder.
        arg_name: str. The argument the folder came from, for messages.
        log: callable. Where the summary line goes.
    """
    if color_mode is not None and color_mode not in COLOR_MODES:
        raise ValueError(f"Argument `color_mode` must be one of {COLOR_MODES} or None. "
                         f"Received: color_mode={color_mode!r}")
    if image_size is not None:
        image_size = check_image_size(image_size)
    files, labels, class_names, ignored = list_images(path, arg_name)
    shapes, bad = _shapes(files, color_mode, image_size)
    if len(bad) and not skip_bad_images:
        raise ValueError(
            f"Argument `{arg_name}` holds {len(bad)} image file(s) that could not be decoded "
            f"(corrupt, truncated or not an image), such as {files[bad[0]]!r}; pass "
            "--skip-bad-images (skip_bad_images=True) to train without them. Received: "
            f"{arg_name}={path!r}")
    if len(bad):
        keep = np.setdiff1d(np.arange(len(files)), bad)
        log(f"Skipped {len(bad)} image file(s) that could not be decoded, such as "
            f"{files[bad[0]]!r} (--skip-bad-images).")
        files, shapes = [files[i] for i in keep], shapes[keep]
        labels = None if labels is None else labels[keep]
        if not files:
            raise ValueError(f"Argument `{arg_name}` holds no image that decodes. Received: "
                             f"{arg_name}={path!r}")
    channels = np.unique(shapes[:, 2])
    if len(channels) > 1:
        first = {c: files[int(np.argmax(shapes[:, 2] == c))] for c in channels}
        raise ValueError(
            f"Argument `{arg_name}` holds images with different channel counts "
            f"({', '.join(f'{c}: such as {os.path.basename(f)!r}' for c, f in first.items())}); "
            "pass --color-mode rgb or grayscale (color_mode=...) to convert them all. "
            f"Received: {arg_name}={path!r}")
    if len(np.unique(shapes[:, :2], axis=0)) > 1:
        raise ValueError(
            f"Argument `{arg_name}` holds images of several sizes ({_sizes_in_words(shapes)}); "
            "pass --image-size HEIGHT WIDTH (image_size=...) to resize them all. Received: "
            f"{arg_name}={path!r}")
    if ignored:
        log(f"{path}: {ignored} file(s) that are not images {list(IMAGE_EXTENSIONS)} left out.")
    return ImageFiles(files, labels, tuple(int(d) for d in shapes[0]), color_mode,
                      image_size, class_names)


def check_image_size(image_size):
    if (not isinstance(image_size, (list, tuple)) or len(image_size) != 2 or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in image_size)):
        raise ValueError("Argument `image_size` must be two ints >= 1, (height, width). "
                         f"Received: image_size={image_size!r}")
    return tuple(image_size)


# --------------------------------------------------------------------------- arrays

def _array_error(path, key, message):
    where = f"{path!r}" + (f" (key {key!r})" if key else "")
    return ValueError(f"Array file {where} {message}")


def images_from_array(array, path, key=None) -> np.ndarray:
    """Images `(n, H, W)` or `(n, H, W, C)`, uint8 0-255 or float in [0, 1], as float32
    `(n, H, W, C)` in [0, 1]; anything else is refused, naming the file."""
    if array.ndim not in (3, 4) or array.shape[0] < 1:
        raise _array_error(path, key, "must hold images shaped (n, height, width) or (n, "
                           f"height, width, channels). Received: shape {array.shape}")
    if array.dtype == np.uint8:
        images = array.astype(np.float32) / np.float32(255.0)
    elif np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all():
            raise _array_error(path, key, "must hold finite values. Received: "
                               f"{int((~finite).sum())} NaN or inf value(s)")
        if array.min() < 0 or array.max() > 1:
            raise _array_error(path, key, "must hold floats in [0, 1] (or uint8 0-255). "
                               f"Received: values in [{array.min():g}, {array.max():g}]")
        images = array.astype(np.float32)
    else:
        raise _array_error(path, key, "must hold uint8 values 0-255 or floats in [0, 1]. "
                           f"Received: dtype {array.dtype}")
    return images[..., None] if images.ndim == 3 else images


def read_arrays(path, array_key=None, labels_key=None, arg_name="data_dir"):
    """Images (and labels) from a `.npy` file or a key of an `.npz` file.

    An `.npz` file's images are under `array_key`, or its only array, or the key `x` or
    `images`; its labels under `labels_key` (or `y` / `labels` when present).

    Returns:
        `(images, labels)`: float32 `(n, H, W, C)` in [0, 1], and int64 `(n,)` or None.
    """
    if not os.path.isfile(path):
        raise ValueError(f"Argument `{arg_name}` must be an existing .npy or .npz file. "
                         f"Received: {arg_name}={path!r}, which does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"Argument `{arg_name}` must be a readable .npy or .npz file. "
                         f"Received: {path!r} ({type(error).__name__}: {error})") from error
    if isinstance(loaded, np.ndarray):
        for name, value in (("array_key", array_key), ("labels_key", labels_key)):
            if value is not None:
                raise ValueError(f"Argument `{name}` applies to .npz files only. Received: "
                                 f"{name}={value!r} with the .npy file {path!r}")
        return images_from_array(loaded, path), None
    with loaded:
        keys = list(loaded.keys())
        key = array_key or _default_key(keys, ("x", "images"), path, "array_key",
                                         only=len(keys) == 1)
        for name, value in (("array_key", key), ("labels_key", labels_key)):
            if value is not None and value not in keys:
                raise ValueError(f"Argument `{name}` must name an array of {path!r}, which "
                                 f"holds {keys}. Received: {name}={value!r}")
        images = images_from_array(loaded[key], path, key)
        label_key = labels_key or next((k for k in ("y", "labels") if k in keys), None)
        if label_key is None:
            return images, None
        labels = loaded[label_key]
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise _array_error(path, label_key, f"must hold one int label per image "
                           f"({len(images)}). Received: shape {labels.shape}, dtype "
                           f"{labels.dtype}")
    return images, labels.astype(np.int64)


def _default_key(keys, names, path, arg_name, only):
    if only:
        return keys[0]
    for name in names:
        if name in keys:
            return name
    raise ValueError(f"Argument `{arg_name}` must name the images' array of {path!r}, which "
                     f"holds {keys} (none of them is called {' or '.join(names)}). Received: "
                     f"{arg_name}=None")
