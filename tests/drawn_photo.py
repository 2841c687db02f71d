"""A realistic test photo drawn with NumPy and PIL (nothing downloaded), for tests and benchmarks."""

from __future__ import annotations


def draw_photo(width: int = 1200, height: int = 800):
    """A realistic test photo drawn here (no download): sky gradient, sun, green hills, a red house in the
    centre, sensor noise. Returns a PIL RGB image; the house's walls are pure-ish red at the centre."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    sky = np.stack([90 + 80 * yy / height, 150 + 60 * yy / height, np.full_like(yy, 235)], axis=-1)
    img = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    d.ellipse((0.08 * width, 0.08 * height, 0.2 * width, 0.26 * height), fill=(255, 236, 120))
    d.polygon([(0, 0.65 * height), (0.35 * width, 0.5 * height), (0.7 * width, 0.62 * height), (width, 0.55 * height),
               (width, height), (0, height)], fill=(70, 140, 60))  # fmt: skip
    cx, cy = width / 2, height / 2
    s = min(width, height) * 0.22
    d.rectangle((cx - s, cy - 0.6 * s, cx + s, cy + s), fill=(200, 30, 30))
    d.polygon(
        [(cx - 1.2 * s, cy - 0.6 * s), (cx, cy - 1.4 * s), (cx + 1.2 * s, cy - 0.6 * s)], fill=(90, 40, 30)
    )
    d.rectangle((cx - 0.2 * s, cy + 0.3 * s, cx + 0.2 * s, cy + s), fill=(60, 40, 20))
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    noise = np.random.default_rng(0).normal(0, 4, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8))
