"""Input conventions: value ranges and per-image standardisation."""

from __future__ import annotations

import numpy as np

# the guess of a model's input convention lives in core.models.conventions; re-exported here
from cnnviz_gui.core.models.conventions import (  # noqa: F401
    APP_AUTOENCODER_NAMES,
    APP_MODEL_NAMES,
    ConventionGuess,
    guess_convention,
)

#: Input conventions a model may expect; the app converts 0..1 float images into one of these.
#: "caffe": RGB -> BGR, 0..255 minus the ImageNet mean (VGG, ResNet: ``keras.applications.vgg16/resnet50.
#: preprocess_input``); "-1..1": MobileNet, Inception, Xception; "torch": 0..1, then ImageNet mean and std
#: (DenseNet).
CONVENTIONS = ("standardised", "0..1", "0..255", "caffe", "-1..1", "torch")

#: ImageNet channel means and standard deviations, RGB order (0..1 for torch, 0..255 in BGR order for caffe)
IMAGENET_MEAN_RGB = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD_RGB = np.array([0.229, 0.224, 0.225], np.float32)
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)
#: RGB -> grey weights (ITU-R 601-2 luma, what PIL's convert("L") uses)
LUMA_601 = np.array([0.299, 0.587, 0.114], np.float32)


def standardise(images: np.ndarray) -> np.ndarray:
    """Per-image standardisation (zero mean, unit std), as ``tf.image.per_image_standardization``.

    A 4-D array is a batch (N, H, W, C); anything else is one image.
    """
    x = np.asarray(images, dtype=np.float32)
    axes = tuple(range(1, x.ndim)) if x.ndim == 4 else tuple(range(x.ndim))
    return _standardise(x, axes)


def standardise_batch(images: np.ndarray) -> np.ndarray:
    """Per-image standardisation of a batch of any rank (N, ...): each item on its own."""
    x = np.asarray(images, dtype=np.float32)
    return _standardise(x, tuple(range(1, x.ndim)))


def _standardise(x: np.ndarray, axes: tuple) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    n = np.prod([x.shape[a] for a in axes])
    std = np.maximum(x.std(axis=axes, keepdims=True), 1.0 / np.sqrt(n))
    return ((x - mean) / std).astype(np.float32)


def _channel_constants(values: np.ndarray, channels: int) -> np.ndarray:
    """Per-channel constants for ``channels`` channels: as given for 3, their mean for any other count."""
    return values if channels == 3 else np.full(channels, values.mean(), np.float32)


def to_model_range(images01: np.ndarray, convention: str) -> np.ndarray:
    """Convert a batch (N, ...) of images in 0..1 (each item standardised on its own) to a convention.

    The channel axis is the last one; "caffe" and "torch" use ImageNet's per-channel constants for RGB
    images and their mean for other channel counts (a grey image gets the grey mean).
    """
    x = np.asarray(images01, dtype=np.float32)
    if convention == "standardised":
        return standardise_batch(x)
    if convention == "0..1":
        return x
    if convention == "0..255":
        return x * 255.0
    if convention == "-1..1":
        return x * 2.0 - 1.0
    if convention == "torch":
        c = x.shape[-1]
        return (
            (x - _channel_constants(IMAGENET_MEAN_RGB, c)) / _channel_constants(IMAGENET_STD_RGB, c)
        ).astype(np.float32)
    if convention == "caffe":
        c = x.shape[-1]
        bgr = x[..., ::-1] if c == 3 else x
        return (bgr * 255.0 - _channel_constants(CAFFE_MEAN_BGR, c)).astype(np.float32)
    raise ValueError(f"unknown input convention {convention!r}; expected one of {', '.join(CONVENTIONS)}")


def to_model_range_tf(images01, convention: str):
    """TensorFlow version of :func:`to_model_range` (same values, differentiable), for use inside a
    ``tf.function``: a batch (N, ..., C) of images in 0..1 -> the model's input in ``convention``.

    "standardised" divides by ``max(std, 1/sqrt(n))`` as ``tf.image.per_image_standardization`` does.
    """
    import tensorflow as tf

    if convention not in CONVENTIONS:
        raise ValueError(f"unknown input convention {convention!r}; expected one of {', '.join(CONVENTIONS)}")
    x = tf.convert_to_tensor(images01, tf.float32)
    if convention == "0..1":
        return x
    if convention == "0..255":
        return x * 255.0
    if convention == "-1..1":
        return x * 2.0 - 1.0
    if convention == "standardised":
        axes = list(range(1, len(x.shape)))
        mean, var = tf.nn.moments(x, axes=axes, keepdims=True)
        n = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)
        return (x - mean) / tf.maximum(tf.sqrt(var), 1.0 / tf.sqrt(n))
    c = int(x.shape[-1])
    if convention == "torch":
        mean = tf.constant(_channel_constants(IMAGENET_MEAN_RGB, c))
        return (x - mean) / tf.constant(_channel_constants(IMAGENET_STD_RGB, c))
    bgr = tf.reverse(x, axis=[-1]) if c == 3 else x  # caffe
    return bgr * 255.0 - tf.constant(_channel_constants(CAFFE_MEAN_BGR, c))


def from_model_range(inputs: np.ndarray, convention: str) -> np.ndarray:
    """The inverse of :func:`to_model_range`: model inputs (N, ..., C) back to display values in 0..1.

    "standardised" has no inverse (the mean and scale are gone): each item is stretched to 0..1 by its own
    minimum and maximum. Values outside 0..1 are clipped.
    """
    x = np.asarray(inputs, dtype=np.float32)
    if convention == "standardised":
        axes = tuple(range(1, x.ndim))
        lo, hi = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
        out = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    elif convention == "0..1":
        out = x
    elif convention == "0..255":
        out = x / 255.0
    elif convention == "-1..1":
        out = (x + 1.0) / 2.0
    elif convention == "torch":
        c = x.shape[-1]
        out = x * _channel_constants(IMAGENET_STD_RGB, c) + _channel_constants(IMAGENET_MEAN_RGB, c)
    elif convention == "caffe":
        c = x.shape[-1]
        rgb = (x + _channel_constants(CAFFE_MEAN_BGR, c)) / 255.0
        out = rgb[..., ::-1] if c == 3 else rgb
    else:
        raise ValueError(f"unknown input convention {convention!r}; expected one of {', '.join(CONVENTIONS)}")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


# -- drawings ----------------------------------------------------------------------------------------------
MNIST_SIZE = 28
MNIST_BOX = 20


def render_strokes(
    strokes: list[list[tuple[float, float]]],
    size: tuple[int, int] = (280, 280),
    brush: float = 18.0,
    erase: list[bool] | None = None,
) -> np.ndarray:
    """Rasterise strokes (lists of (x, y) canvas points) into an ink image (H, W) float32 in 0..1.

    ``erase[i]`` true makes stroke ``i`` an eraser stroke. Round caps and joins, as a pen draws.
    """
    from PIL import Image, ImageDraw

    w, h = size
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    r = brush / 2.0
    for i, pts in enumerate(strokes):
        value = 0 if erase is not None and erase[i] else 255
        pts = [(float(x), float(y)) for x, y in pts]
        if len(pts) > 1:
            draw.line(pts, fill=value, width=max(1, int(round(brush))), joint="curve")
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=value)
    return np.asarray(img, dtype=np.float32) / 255.0


def digit_from_ink(ink: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Turn a drawing (H, W) of light ink on black (0..1) into a 28x28 MNIST-style digit (0..1 float32).

    The way MNIST digits were made: crop to the ink, scale so that the longer side fits a 20x20 box keeping
    the aspect ratio (with anti-aliasing), then place the result in 28x28 so that its centre of mass lies at
    the centre. An empty drawing gives an all-black image.
    """
    from PIL import Image

    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim == 3:
        ink = ink.mean(axis=-1)
    rows = np.flatnonzero(ink.max(axis=1) > threshold)
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    if rows.size == 0:
        return out
    cols = np.flatnonzero(ink.max(axis=0) > threshold)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    ch, cw = crop.shape
    scale = MNIST_BOX / max(ch, cw)
    nh, nw = max(1, round(ch * scale)), max(1, round(cw * scale))
    small = Image.fromarray(np.clip(crop, 0.0, 1.0)).resize((nw, nh), Image.Resampling.LANCZOS)
    digit = np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0)
    total = digit.sum()
    if total <= 0:
        return out
    yy, xx = np.indices(digit.shape)
    cy, cx = (yy * digit).sum() / total, (xx * digit).sum() / total
    top = int(round(MNIST_SIZE / 2 - 0.5 - cy))
    left = int(round(MNIST_SIZE / 2 - 0.5 - cx))
    top = min(max(top, 0), MNIST_SIZE - nh)
    left = min(max(left, 0), MNIST_SIZE - nw)
    out[top : top + nh, left : left + nw] = digit
    return out


# -- image files ---------------------------------------------------------------------------------------------
class ImageInputError(Exception):
    """An image file that cannot be used as input; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def image_to_input(source, input_shape: tuple, invert: bool | None = None) -> np.ndarray:
    """Convert an image file (PNG/JPEG/BMP, path or PIL image) into a model input (H, W, C) in 0..1.

    The image is padded to the model's aspect ratio with its background colour (the median of its border),
    resized with anti-aliasing, and converted to 1 or 3 channels. For a 1-channel model ``invert=None``
    inverts a dark-on-light image (a digit on paper) into MNIST's light-on-dark convention.
    """
    from PIL import Image, UnidentifiedImageError

    if len(input_shape) != 3 or input_shape[-1] not in (1, 3):
        raise ImageInputError(f"the model's input {tuple(input_shape)} is not an image with 1 or 3 channels")
    h, w, c = (int(s) if s is not None else 28 for s in input_shape)
    if isinstance(source, Image.Image):
        img = source
    else:
        try:
            img = Image.open(source)
            img.load()
        except FileNotFoundError as err:
            raise ImageInputError(f"The image file {source} does not exist.") from err
        except (UnidentifiedImageError, OSError) as err:
            raise ImageInputError(
                f"{source} is not an image file that can be read (PNG, JPEG, BMP)."
            ) from err
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    img = img.convert("L" if c == 1 else "RGB")
    a = np.asarray(img, dtype=np.float32) / 255.0
    if a.ndim == 2:
        a = a[..., None]
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]], axis=0)
    background = np.median(border, axis=0)
    ih, iw = a.shape[:2]
    target = w / h
    if iw / ih < target:  # too narrow: pad left and right
        nw = int(round(ih * target))
        pad = np.broadcast_to(background, (ih, nw, a.shape[2])).copy()
        pad[:, (nw - iw) // 2 : (nw - iw) // 2 + iw] = a
        a = pad
    elif iw / ih > target:
        nh = int(round(iw / target))
        pad = np.broadcast_to(background, (nh, iw, a.shape[2])).copy()
        pad[(nh - ih) // 2 : (nh - ih) // 2 + ih] = a
        a = pad
    chans = [
        np.asarray(Image.fromarray(a[..., k]).resize((w, h), Image.Resampling.LANCZOS), dtype=np.float32)
        for k in range(a.shape[2])
    ]
    out = np.clip(np.stack(chans, axis=-1), 0.0, 1.0)
    if c == 1 and (invert or (invert is None and float(background.mean()) > 0.5)):
        out = 1.0 - out
    return out.astype(np.float32)


def digit_from_image(source, invert: bool | None = None) -> np.ndarray:
    """A photo or scan of one digit as a 28x28 MNIST-style digit (H, W, 1) in 0..1.

    The image is read at full size in grey (a dark digit on light paper inverted, see
    :func:`image_to_input`), its background level removed, then treated as a drawing by
    :func:`digit_from_ink`: cropped to the ink, scaled into 20x20, centred by mass.
    """
    from PIL import Image

    if isinstance(source, Image.Image):
        size = source.size
    else:
        try:
            with Image.open(source) as img:
                size = img.size
        except FileNotFoundError as err:
            raise ImageInputError(f"The image file {source} does not exist.") from err
        except OSError as err:
            raise ImageInputError(
                f"{source} is not an image file that can be read (PNG, JPEG, BMP)."
            ) from err
    grey = image_to_input(source, (size[1], size[0], 1), invert=invert)[..., 0]
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    ink = np.clip((grey - background) / max(1.0 - background, 1e-3), 0.0, 1.0)
    return digit_from_ink(ink, threshold=0.15)[..., None]


def fit_input(images01: np.ndarray, input_shape: tuple) -> np.ndarray:
    """Bring images (H, W, C) or a batch (N, H, W, C) in 0..1 to a model's input shape (no batch axis).

    A flat input (e.g. an MLP on 784 values) receives the image flattened when the sizes agree; 1 and 3
    channels are converted into each other (grey repeated; RGB to grey by ITU-R 601 luma, as photos are; an
    alpha channel dropped); a different height or width is resized with anti-aliasing, after cutting the
    centre to the input's aspect ratio when it differs (no distortion). Raises ``ValueError`` with a readable
    message when no conversion fits.
    """
    x = np.asarray(images01, dtype=np.float32)
    single = x.ndim == 3
    if single:
        x = x[None]
    shape = tuple(input_shape)
    if len(shape) == 1:
        n = shape[0]
        if n is not None and x[0].size != n:
            raise ValueError(f"an image of {x.shape[1:]} ({x[0].size} values) does not fit the input ({n},)")
        out = x.reshape(len(x), -1)
        return out[0] if single else out
    if len(shape) != 3:
        raise ValueError(f"the model's input {shape} is neither an image nor a flat vector")
    h, w, c = shape
    if c is not None and x.shape[-1] != c:
        if c == 3 and x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        elif c == 1 and x.shape[-1] in (3, 4):
            x = (x[..., :3] @ LUMA_601)[..., None].astype(np.float32)
        elif c == 3 and x.shape[-1] == 4:
            x = x[..., :3]
        else:
            raise ValueError(f"images with {x.shape[-1]} channels do not fit an input with {c}")
    if (h is not None and x.shape[1] != h) or (w is not None and x.shape[2] != w):
        from PIL import Image

        th, tw = h or x.shape[1], w or x.shape[2]
        ih, iw = x.shape[1:3]
        if abs(iw / ih - tw / th) > 0.01 * tw / th:  # other aspect ratio: keep the centre, as photos do
            if iw / ih > tw / th:
                cw = max(1, round(ih * tw / th))
                x = x[:, :, (iw - cw) // 2 : (iw - cw) // 2 + cw]
            else:
                ch = max(1, round(iw * th / tw))
                x = x[:, (ih - ch) // 2 : (ih - ch) // 2 + ch]
        x = np.stack(
            [
                np.stack(
                    [
                        np.asarray(Image.fromarray(img[..., k]).resize((tw, th), Image.Resampling.LANCZOS))
                        for k in range(x.shape[-1])
                    ],
                    axis=-1,
                )
                for img in x
            ]
        ).astype(np.float32)
        x = np.clip(x, 0.0, 1.0)
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x[0] if single else x
