"""Photos of any size and aspect as model inputs: centre crop (default) or pad, grey or RGB, in 0..1.

PIL does the work (``ImageOps.fit`` / ``ImageOps.pad`` with Lanczos resampling); JPEGs are decoded at a
reduced scale when they are much larger than needed (``Image.draft``), so a 24-megapixel photo is not
decoded in full for a 224x224 input. The orientation a camera stored in EXIF is applied.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

FIT_MODES = ("crop", "pad")


class PhotoError(Exception):
    """An image that cannot be used; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def open_photo(source: str | os.PathLike | Any, draft_size: tuple[int, int] | None = None):
    """Open an image file (or take a PIL image) as an RGB or grey ("L") PIL image, upright.

    Transparency is flattened onto white. ``draft_size`` (width, height) lets a JPEG decode at a reduced
    scale that is still at least that large.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, Image.Image):
        img = source
    else:
        try:
            img = Image.open(source)
            if draft_size is not None and img.format == "JPEG":
                img.draft("RGB", (int(draft_size[0]), int(draft_size[1])))
            img.load()
        except FileNotFoundError as err:
            raise PhotoError(f"The image file {source} does not exist.") from err
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
            raise PhotoError(
                f"{source} is not an image file that can be read (PNG, JPEG, BMP, ...)."
            ) from err
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block: keep the pixels as stored
        pass
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    return img


def fit_photo(
    source, size: tuple[int, int], mode: str = "crop", channels: int = 3, fill: float = 0.0
) -> np.ndarray:
    """A photo (file, PIL image, or array (H, W[, C]) in 0..1) resized to ``size`` (height, width).

    ``mode`` "crop": scaled to cover the size, the centre kept (what ImageNet models were evaluated with);
    "pad": scaled to fit inside, the rest filled with ``fill`` (0..1; 0 is black). ``channels`` 1 gives grey
    (ITU-R 601 luma), 3 gives RGB (a grey image repeated). Returns float32 (H, W, channels) in 0..1.
    """
    from PIL import Image, ImageOps

    if mode not in FIT_MODES:
        raise ValueError(f"unknown fit mode '{mode}'; use one of {', '.join(FIT_MODES)}")
    if channels not in (1, 3):
        raise ValueError(f"a photo becomes 1 or 3 channels, not {channels}")
    h, w = int(size[0]), int(size[1])
    if isinstance(source, np.ndarray):
        a = np.clip(np.asarray(source, dtype=np.float32), 0.0, 1.0)
        if a.ndim == 3 and a.shape[-1] == 1:
            a = a[..., 0]
        img = Image.fromarray((a * 255.0 + 0.5).astype(np.uint8))
    else:
        img = open_photo(source, draft_size=(w, h))
    img = img.convert("L" if channels == 1 else "RGB")
    if mode == "crop":
        out = ImageOps.fit(img, (w, h), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    else:
        value = int(round(float(np.clip(fill, 0.0, 1.0)) * 255))
        colour = value if channels == 1 else (value, value, value)
        out = ImageOps.pad(img, (w, h), method=Image.Resampling.LANCZOS, color=colour, centering=(0.5, 0.5))
    a = np.asarray(out, dtype=np.float32) / 255.0
    return (a[..., None] if a.ndim == 2 else a).astype(np.float32)


def photo_to_input(source, input_shape: tuple, mode: str = "crop", fill: float = 0.0) -> np.ndarray:
    """A photo as a model input (H, W, C) in 0..1: fitted to the model's height and width by ``mode`` and
    converted to its 1 or 3 channels. A model of free size (None) keeps the photo's size on that axis
    (at most 1024 pixels)."""
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] not in (1, 3):
        raise PhotoError(f"the model's input {shape} is not an image with 1 or 3 channels")
    h, w, c = shape
    if h is None or w is None:
        img = source if isinstance(source, np.ndarray) else open_photo(source)
        ih, iw = (img.shape[:2]) if isinstance(img, np.ndarray) else (img.size[1], img.size[0])
        scale = min(1.0, 1024 / max(ih, iw))
        h = h or max(1, int(round(ih * scale)))
        w = w or max(1, int(round(iw * scale)))
        source = img
    return fit_photo(source, (h, w), mode, channels=int(c), fill=fill)


def photo_for_model(
    source, input_shape: tuple, mode: str = "crop", invert: bool | None = None
) -> tuple[np.ndarray, tuple[int, int], bool]:
    """A photo as the model gets it, for the Input pane: (input (H, W, C) in 0..1, the photo's (width,
    height), whether it was inverted).

    RGB models get the photo in colour (a grey photo as three equal channels). Grey models get it in grey,
    inverted when ``invert`` is true, or when ``invert`` is None and its border is light (a dark digit on
    paper becomes MNIST's light-on-black); padding is black after that.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] not in (1, 3):
        raise PhotoError(f"the model's input {shape} is not an image with 1 or 3 channels")
    known = [s for s in shape[:2] if s is not None]
    img = open_photo(source, draft_size=(max(known), max(known)) if known else None)
    size = _stored_size(source, img)
    if shape[-1] == 3:
        return photo_to_input(img, shape, mode), size, False
    grey = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    flip = bool(invert) if invert is not None else float(np.median(border)) > 0.5
    if flip:
        grey = 1.0 - grey
    return photo_to_input(grey, shape, mode), size, flip


def _stored_size(source, opened) -> tuple[int, int]:
    """The (width, height) of the photo as stored and upright (a JPEG decoded at a reduced scale is
    smaller than that)."""
    from PIL import Image

    if isinstance(source, Image.Image):
        return source.size
    try:
        with Image.open(source) as img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
    except Exception:
        return opened.size
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
