"""Dataset sources. The bundled MNIST sample is always available offline."""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz_gui.core.resources import mnist_sample_path


@dataclass
class Dataset:
    """Images as float32 in 0..1 with shape (N, H, W, C) and integer labels.

    The copy the window gets may hold ``x`` as uint8 0..255 (a quarter of the memory) when that is exact:
    read images with :meth:`image`, which gives float32 0..1 either way.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.y)

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` as float32 (H, W, C) in 0..1."""
        img = self.x[i]
        return img.astype(np.float32) / np.float32(255.0) if img.dtype == np.uint8 else img

    def as_bytes(self) -> Dataset:
        """The same dataset with ``x`` in uint8 when every value is a multiple of 1/255 (8-bit sources), else
        itself: what crosses to the window, which only shows and picks images."""
        if self.x.dtype == np.uint8:
            return self
        scaled = np.rint(self.x * np.float32(255.0))
        if not (scaled.min() >= 0 and scaled.max() <= 255):
            return self
        as_u8 = scaled.astype(np.uint8)
        if not np.array_equal(as_u8.astype(np.float32) / np.float32(255.0), self.x):
            return self
        return Dataset(self.name, as_u8, self.y, self.class_names)


_bundled: tuple[np.ndarray, np.ndarray] | None = None


def load_bundled_mnist() -> Dataset:
    """The 10,000-digit MNIST sample shipped with the app (read-only arrays decoded once, shared).

    Decoding takes ~30–300 ms; the app warms it on the compute thread at start-up
    (:func:`warm_bundled_mnist`), so the GUI thread gets it at once (a 31 MB copy took up to 100 ms there).
    """
    global _bundled
    if _bundled is None:
        with np.load(mnist_sample_path()) as data:
            x = data["x"].astype(np.float32)[..., None] / 255.0
            y = data["y"].astype(np.int64)
        x.flags.writeable = y.flags.writeable = False  # shared by every caller: nobody may change them
        _bundled = (x, y)
    x, y = _bundled
    return Dataset("MNIST sample (10k, bundled)", x, y, [str(i) for i in range(10)])


def warm_bundled_mnist(*_args) -> None:
    """Decode the bundled sample now (a compute-thread job: ``fn(progress, cancelled)``)."""
    load_bundled_mnist()


def split_shuffled(ds: Dataset, n_train: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Shuffle with a fixed seed and split into (train, test)."""
    order = np.random.default_rng(seed).permutation(len(ds))
    tr, te = order[:n_train], order[n_train:]
    return (
        Dataset(ds.name + " (train)", ds.x[tr], ds.y[tr], ds.class_names),
        Dataset(ds.name + " (test)", ds.x[te], ds.y[te], ds.class_names),
    )


# -- other sources ---------------------------------------------------------------------------------------
BUNDLED = "mnist-sample"
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
]  # fmt: skip
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"
]  # fmt: skip
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")


class DatasetError(Exception):
    """A dataset that cannot be loaded; ``message`` says why in words for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _as_images01(x: np.ndarray) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) of uint8 0..255 or floats into float32 0..1 with a channel axis."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise DatasetError(f"images must be (N, H, W) or (N, H, W, C); got shape {x.shape}")
    if x.dtype == np.uint8 or (x.size and float(np.max(x)) > 1.5):
        return (x.astype(np.float32) / 255.0).astype(np.float32)
    return x.astype(np.float32)


def _names_for(y: np.ndarray, names: list[str] | None = None) -> list[str]:
    n = int(y.max()) + 1 if len(y) else 0
    names = list(names or [])
    return names + [str(i) for i in range(len(names), n)]


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError as err:
        raise DatasetError(f"The file {path} does not exist.") from err
    except (OSError, EOFError) as err:
        raise DatasetError(f"{path.name} cannot be read: {err}.") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{path.name} is not an IDX file (its header is wrong).")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise DatasetError(f"{path.name} has an unknown IDX element type 0x{data[2]:02x}.")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    dtype = np.dtype(dtypes[data[2]])
    count = int(np.prod(dims))
    body = data[4 + 4 * ndim :]
    if len(body) < count * dtype.itemsize:
        raise DatasetError(f"{path.name} is truncated: it holds fewer values than its header announces.")
    return np.frombuffer(body, dtype=dtype, count=count).reshape(dims).astype(dtype.newbyteorder("="))


def _labels_file_for(images: Path) -> Path | None:
    name = images.name
    for a, b in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1"), ("images", "labels")):
        if a in name:
            cand = images.with_name(name.replace(a, b))
            if cand.exists():
                return cand
            alt = (
                cand.with_name(cand.name[:-3])
                if cand.name.endswith(".gz")
                else cand.with_name(cand.name + ".gz")
            )
            if alt.exists():
                return alt
    return None


def load_idx_pair(
    images: str | os.PathLike, labels: str | os.PathLike | None = None, name: str = ""
) -> Dataset:
    """Images and labels from a pair of IDX files (labels found beside the images when not given)."""
    images = Path(images)
    labels = Path(labels) if labels is not None else _labels_file_for(images)
    if labels is None:
        raise DatasetError(
            f"No labels file found beside {images.name} (expected a '...labels-idx1...' file)."
        )
    x, y = read_idx(images), read_idx(labels).astype(np.int64)
    if len(x) != len(y):
        raise DatasetError(f"{images.name} holds {len(x)} images but {labels.name} {len(y)} labels.")
    return Dataset(name or images.name, _as_images01(x), y, _names_for(y))


def _idx_folder(folder: Path) -> Dataset | None:
    files = sorted(p for p in folder.iterdir() if "images" in p.name and "idx3" in p.name)
    if not files:
        return None
    test = [p for p in files if p.name.startswith(("t10k", "test"))]
    return load_idx_pair((test or files)[0], name=f"{folder.name} ({(test or files)[0].name})")


def debian_fashion_mnist() -> Path | None:
    """The folder of Debian's ``dataset-fashion-mnist`` package when it is installed."""
    d = DEBIAN_FASHION_MNIST
    return d if (d / "t10k-images-idx3-ubyte.gz").exists() else None


def load_npz(path: str | os.PathLike) -> Dataset:
    """A ``.npz`` with arrays ``x`` (images) and ``y`` (integer labels); optional ``class_names``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if not {"x", "y"} <= keys:
                raise DatasetError(
                    f"{path.name} must hold arrays 'x' (images) and 'y' (labels); it has {sorted(keys)}."
                )
            x, y = data["x"], data["y"]
            names = [str(s) for s in data["class_names"]] if "class_names" in keys else None
    except DatasetError:
        raise
    except FileNotFoundError as err:
        raise DatasetError(f"The file {path} does not exist.") from err
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path.name} is not a readable .npz file: {err}.") from err
    y = np.asarray(y).astype(np.int64).reshape(-1)
    if len(x) != len(y):
        raise DatasetError(f"{path.name}: x holds {len(x)} images but y {len(y)} labels.")
    return Dataset(path.name, _as_images01(x), y, _names_for(y, names))


#: the longer side of images of a folder dataset, unless a size is asked for (photos are scaled down to it)
FOLDER_MAX_SIDE = 256


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_image_folder(
    folder: str | os.PathLike,
    limit_per_class: int | None = 2000,
    size: tuple[int, int] | None = None,
    mode: str = "crop",
    max_side: int = FOLDER_MAX_SIDE,
) -> Dataset:
    """Images of a folder as a dataset: one sub-folder per class (the sub-folder's name is the class name),
    or, without class sub-folders, the images in the folder itself (one class named after the folder).

    Every image is brought to one size without distortion (centre crop, or ``mode="pad"``): ``size``
    (height, width) when given (e.g. the model's input), else the first image's size scaled down so that its
    longer side is at most ``max_side`` (a folder of 24-megapixel photos does not fill the memory). Grey if
    every image is grey, else RGB. Unreadable files are skipped.
    """
    from cnnviz_gui.core.photos import PhotoError, fit_photo, open_photo

    folder = Path(folder)
    classes = [d for d in sorted(p for p in folder.iterdir() if p.is_dir()) if _images_in(d)]
    files: list[tuple[Path, int]] = []
    if classes:
        names = [d.name for d in classes]
        for k, d in enumerate(classes):
            files += [(p, k) for p in _images_in(d)[:limit_per_class]]
    else:
        names = [folder.name]
        files = [(p, 0) for p in _images_in(folder)[:limit_per_class]]
    if not files:
        raise DatasetError(
            f"{folder} has no images and no sub-folders of images (PNG, JPEG, BMP): put the images in it, or "
            "those of each class in a sub-folder of its own."
        )
    images, labels = [], []
    target = None if size is None else (int(size[0]), int(size[1]))
    for p, k in files:
        try:
            img = open_photo(p, draft_size=None if target is None else (target[1], target[0]))
        except PhotoError:
            continue
        if target is None:
            w, h = img.size
            scale = min(1.0, max_side / max(w, h))
            target = (max(1, round(h * scale)), max(1, round(w * scale)))
        images.append(img)
        labels.append(k)
    if not images:
        raise DatasetError(f"None of the images in {folder} could be read.")
    grey = all(im.mode == "L" for im in images)
    x = np.stack([fit_photo(im, target, mode, channels=1 if grey else 3) for im in images])
    y = np.asarray(labels, dtype=np.int64)
    return Dataset(folder.name, x.astype(np.float32), y, names)


def load_keras_dataset(name: str) -> Dataset:
    """The test split (10,000 images) of a ``keras.datasets`` set; downloads on first use.

    Fashion-MNIST is read from Debian's ``dataset-fashion-mnist`` package when it is installed.
    Offline and not yet downloaded, a :class:`DatasetError` says so (the bundled sample stays usable).
    """
    if name not in KERAS_DATASETS:
        raise DatasetError(f"unknown dataset '{name}'; known: {', '.join(KERAS_DATASETS)}")
    if name == "fashion_mnist" and debian_fashion_mnist() is not None:
        ds = load_idx_pair(debian_fashion_mnist() / "t10k-images-idx3-ubyte.gz")
        return Dataset("Fashion-MNIST test (10k, system package)", ds.x, ds.y, FASHION_CLASSES)
    import keras

    loader = getattr(keras.datasets, name)
    try:
        _, (x, y) = loader.load_data()
    except Exception as err:  # urllib/HTTP/OS errors: all mean "could not download"
        raise DatasetError(
            f"The {name} dataset could not be downloaded ({type(err).__name__}); this computer seems to be "
            "offline. The bundled MNIST sample is still available. Once online, try again, or open a local "
            "copy (IDX files, an .npz with x/y, or an image folder)."
        ) from err
    y = np.asarray(y).reshape(-1).astype(np.int64)
    names = {"mnist": None, "fashion_mnist": FASHION_CLASSES, "cifar10": CIFAR10_CLASSES}[name]
    return Dataset(f"{name} test (10k)", _as_images01(x), y, _names_for(y, names))


def dataset_sources() -> list[tuple[str, str]]:
    """(key, label) pairs of the named sources a dataset menu offers."""
    fm = "Fashion-MNIST (system package)" if debian_fashion_mnist() else "Fashion-MNIST (download)"
    return [
        (BUNDLED, "MNIST sample (10k, bundled)"),
        ("mnist", "MNIST test set (download)"),
        ("fashion_mnist", fm),
        ("cifar10", "CIFAR-10 test set (download)"),
    ]


def load_dataset(name_or_path: str | os.PathLike) -> Dataset:
    """Load a dataset by name (``mnist-sample``, ``mnist``, ``fashion_mnist``, ``cifar10``) or path.

    A path may be an IDX images file (gzip or not; labels beside it), a folder of IDX files, an ``.npz`` with
    ``x`` and ``y``, or a folder with one sub-folder of images per class. Raises :class:`DatasetError`.
    """
    key = str(name_or_path)
    if key in ("", BUNDLED, "bundled"):
        return load_bundled_mnist()
    if key in KERAS_DATASETS:
        return load_keras_dataset(key)
    path = Path(name_or_path)
    if not path.exists():
        raise DatasetError(
            f"'{key}' is neither a known dataset ({BUNDLED}, {', '.join(KERAS_DATASETS)}) nor an existing file."
        )
    if path.is_dir():
        ds = _idx_folder(path)
        return ds if ds is not None else load_image_folder(path)
    if path.suffix.lower() == ".npz":
        return load_npz(path)
    if "idx" in path.name or path.suffix.lower() in (".ubyte", ".gz"):
        return load_idx_pair(path)
    raise DatasetError(
        f"{path.name} is not a dataset cnnviz reads (IDX files, .npz with x/y, or an image folder)."
    )
