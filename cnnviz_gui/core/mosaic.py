"""Figures of many tiles (feature maps, OIPs) as ONE image with labels, fast and small in PNG, SVG and PDF.

One matplotlib Axes per tile costs ~0.2 s per tile (1024 maps: minutes), and 1024 ``Text`` artists cost
seconds in PNG and PDF. Here a figure of thousands of tiles has a handful of artists: the tiles are composed
into one array drawn by one ``imshow`` (``interpolation="none"``, so SVG and PDF embed the array once at its
own resolution), every tile label is one compound vector path built from cached glyph outlines (sharp at
any zoom, one ``<path>`` in SVG), and crossed-out tiles are one line collection.

Use :func:`mosaic_figure` for a whole figure (title, mosaic, colour bar and room for side panels), or
:func:`plan_mosaic` + :func:`draw_mosaic` to put a mosaic into an Axes of your own. Tiles are scalar
(N, H, W) (coloured by a colour map with shared levels or each tile scaled to its own range) or RGB
(N, H, W, 3) in 0..1, shown in colour. Backend-free: safe on any thread.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from cnnviz_gui.core.figures import new_figure

LABEL_FONT = "DejaVu Sans"
LABELS_GID = "mosaic-labels"
#: tile labels are at most this large, and below MIN_LABEL_PT the labels move to the rows and columns
MAX_LABEL_PT = 8.0
MIN_LABEL_PT = 3.5
#: above this many tiles the labels go to the rows and columns (keeps SVG/PDF of 3000+ tiles small and fast)
MAX_TILE_LABELS = 2048
DIGIT_EM = 0.64  # advance of a digit in DejaVu Sans, in em
TITLE_PT = 11.0
MAX_FIGURE_IN = 18.0


@dataclass
class MosaicPlan:
    """Where every tile goes, in pixels of the composed image, and how large the figure shows it.

    ``mode`` is "tiles" (a label above each tile), "grid" (the index of each row's first tile on its left
    and column offsets on top, when per-tile labels would be too small to read or there are more than
    ``MAX_TILE_LABELS`` tiles) or "none".
    """

    n: int
    ncols: int
    nrows: int
    tile_h: int
    tile_w: int
    gap: int
    band: int  # pixels above each row of tiles, for the labels
    left: int  # pixels left of the first column (grid mode: row labels)
    top: int  # pixels above the first row (grid mode: column labels)
    width_in: float
    label_pt: float
    mode: str
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def cell_h(self) -> int:
        return self.band + self.tile_h + self.gap

    @property
    def cell_w(self) -> int:
        return self.tile_w + self.gap

    @property
    def width_px(self) -> int:
        return self.left + self.ncols * self.cell_w - self.gap

    @property
    def height_px(self) -> int:
        return self.top + self.nrows * self.cell_h - self.gap

    @property
    def height_in(self) -> float:
        return self.width_in * self.height_px / self.width_px

    @property
    def pt_per_px(self) -> float:
        return self.width_in * 72.0 / self.width_px

    def origin(self, k: int) -> tuple[int, int]:
        """(top row, left column) in pixels of the tile drawn ``k``-th."""
        r, c = divmod(int(self.positions[k]), self.ncols)
        return self.top + r * self.cell_h + self.band, self.left + c * self.cell_w


def plan_mosaic(
    n: int,
    tile_hw: tuple[int, int],
    labels: list[str] | None = None,
    *,
    ncols: int | None = None,
    positions: np.ndarray | None = None,
    max_width_in: float = 13.0,
    max_height_in: float = 13.0,
    aspect: float = 1.5,
    left: int = 0,
) -> MosaicPlan:
    """Lay out ``n`` tiles of ``tile_hw`` pixels: columns (about ``aspect`` times wider than high), gaps,
    the physical width, and label size and mode.

    ``positions`` (cell index of each tile, default 0..n-1) lets a caller start groups on new rows; ``left``
    keeps that many pixels free left of the tiles (e.g. for input thumbnails).
    """
    h, w = int(tile_hw[0]), int(tile_hw[1])
    positions = np.arange(n) if positions is None else np.asarray(positions, dtype=np.int64)
    cells = int(positions.max()) + 1 if len(positions) else 1
    auto = ncols is None
    if auto:
        ncols = int(np.ceil(np.sqrt(max(cells, 1) * aspect * (h + max(1, h // 3)) / max(w, 1))))
        if n > MAX_TILE_LABELS:  # rows labelled by their first index read best in round numbers
            ncols = int(np.ceil(ncols / 10) * 10)
    ncols = max(1, min(int(ncols), max(cells, 1)))
    nrows = max(1, int(np.ceil(cells / ncols)))
    gap = max(1, int(round(0.12 * max(h, w))))
    per_col = float(np.clip(w / 100.0, 0.3, 1.2))
    width_in = float(np.clip(ncols * per_col, 3.0, max_width_in))
    chars = max((len(s) for s in labels), default=0) if labels else 0
    plan = MosaicPlan(n, ncols, nrows, h, w, gap, 0, left, 0, width_in, 0.0, "none", positions)
    if chars:
        for _ in range(3):  # the label band changes the height, which may shrink the width: settle it
            cell_pt = plan.cell_w * plan.pt_per_px
            label_pt = min(MAX_LABEL_PT, 0.9 * cell_pt / (DIGIT_EM * chars))
            if label_pt >= MIN_LABEL_PT and n <= MAX_TILE_LABELS:
                plan.mode, plan.label_pt, plan.left, plan.top = "tiles", label_pt, left, 0
                plan.band = int(np.ceil(1.3 * label_pt / plan.pt_per_px))
            else:
                plan.mode, plan.band = "grid", 0
                plan.label_pt = min(MAX_LABEL_PT, max(MIN_LABEL_PT, 0.9 * cell_pt / (DIGIT_EM * 3)))
                digits = len(str(max(int(cells) - 1, 0)))
                plan.left = left + int(np.ceil((DIGIT_EM * digits + 0.4) * plan.label_pt / plan.pt_per_px))
                plan.top = int(np.ceil(1.4 * plan.label_pt / plan.pt_per_px))
            if plan.height_in > max_height_in:
                plan.width_in = max(2.0, plan.width_in * max_height_in / plan.height_in)
            else:
                break
    elif plan.height_in > max_height_in:
        plan.width_in = max(2.0, plan.width_in * max_height_in / plan.height_in)
    return plan


def compose(tiles: np.ndarray, plan: MosaicPlan) -> np.ndarray:
    """The tiles placed by ``plan`` in one float32 array: (H, W) with NaN between scalar tiles, or (H, W, 3)
    with white between RGB tiles."""
    tiles = np.asarray(tiles, dtype=np.float32)
    rgb = tiles.ndim == 4
    shape = (plan.height_px, plan.width_px, 3) if rgb else (plan.height_px, plan.width_px)
    out = np.full(shape, 1.0 if rgb else np.nan, np.float32)
    rows, cols = np.divmod(plan.positions[: len(tiles)], plan.ncols)
    tops = plan.top + rows * plan.cell_h + plan.band
    lefts = plan.left + cols * plan.cell_w
    yy = tops[:, None] + np.arange(plan.tile_h)[None, :]  # (N, h)
    xx = lefts[:, None] + np.arange(plan.tile_w)[None, :]  # (N, w)
    out[yy[:, :, None], xx[:, None, :]] = tiles  # all tiles in one fancy-indexed assignment
    return out


# -- vector labels ------------------------------------------------------------------------------------------
_glyphs: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}


def _glyph(ch: str):
    """Outline (vertices, codes) of one character at 1 pt, y up, and its advance in em (cached)."""
    g = _glyphs.get(ch)
    if g is None:
        from matplotlib.font_manager import FontProperties
        from matplotlib.path import Path
        from matplotlib.textpath import TextPath, text_to_path

        prop = FontProperties(family=LABEL_FONT, size=1.0)
        tp = TextPath((0, 0), ch, size=1.0, prop=prop)
        width = text_to_path.get_text_width_height_descent(ch, prop, ismath=False)[0]
        codes = tp.codes if tp.codes is not None else np.full(len(tp.vertices), Path.LINETO, np.uint8)
        g = _glyphs[ch] = (
            np.asarray(tp.vertices, float),
            np.asarray(codes, np.uint8),
            width / prop.get_size(),
        )
    return g


def label_path(texts: list[str], x: np.ndarray, y: np.ndarray, size: float, align: str = "center"):
    """One matplotlib ``Path`` holding every text, ``size`` data units high, baseline at ``y`` (data y grows
    downwards, as in an image), centred on (or, align="right"/"left", ending/starting at) ``x``."""
    from matplotlib.path import Path

    verts, codes = [], []
    for s, x0, y0 in zip(texts, x, y, strict=True):
        glyphs = [_glyph(ch) for ch in str(s)]
        width = sum(g[2] for g in glyphs) * size
        cx = x0 - width / 2 if align == "center" else (x0 - width if align == "right" else x0)
        for v, c, advance in glyphs:
            if len(v):
                verts.append(v * (size, -size) + (cx, y0))
                codes.append(c)
            cx += advance * size
    if not verts:
        return None
    return Path(np.concatenate(verts), np.concatenate(codes))


# -- drawing ----------------------------------------------------------------------------------------------
@dataclass
class DrawnMosaic:
    """What :func:`draw_mosaic` drew: the plan, the image artist, and for scalar tiles the composed values
    (NaN between tiles), their levels and a ``mappable`` for a colour bar (``fig.colorbar(mappable, ...)``)."""

    plan: MosaicPlan
    image: object
    levels: tuple[float, float] | None
    cmap: str | None
    values: np.ndarray | None = None
    mappable: object | None = None


def tile_levels(
    tiles: np.ndarray, levels=None, per_tile: bool = False
) -> tuple[np.ndarray, tuple[float, float]]:
    """Scalar tiles and the (lo, hi) they are drawn with: ``levels`` as given, the tiles' shared minimum
    and maximum, or (``per_tile``) each tile scaled to its own range 0..1."""
    a = np.asarray(tiles, dtype=np.float32)
    if per_tile:
        lo = np.nanmin(a, axis=(1, 2), keepdims=True)
        span = np.nanmax(a, axis=(1, 2), keepdims=True) - lo
        return np.where(span > 0, (a - lo) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32), (
            0.0,
            1.0,
        )
    if levels is None:
        lo, hi = (float(np.nanmin(a)), float(np.nanmax(a))) if a.size else (0.0, 1.0)
    else:
        lo, hi = float(levels[0]), float(levels[1])
    return a, (lo, hi if hi > lo else lo + 1e-6)


def draw_mosaic(
    ax,
    tiles: np.ndarray,
    plan: MosaicPlan,
    labels: list[str] | None = None,
    *,
    cmap: str = "viridis",
    levels=None,
    per_tile: bool = False,
    crossed: np.ndarray | None = None,
    label_color: str = "0.15",
) -> DrawnMosaic:
    """Draw ``tiles`` into ``ax`` as one image, with labels and crossed-out tiles as one artist each."""
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.patches import PathPatch

    tiles = np.asarray(tiles, dtype=np.float32)
    rgb = tiles.ndim == 4
    if not rgb and cmap not in colormaps:
        raise ValueError(
            f"unknown colour map '{cmap}'; use one of viridis, jet, gray, magma, inferno, plasma"
        )
    lv = values = mappable = None
    if rgb:
        image = ax.imshow(np.clip(compose(tiles, plan), 0, 1), interpolation="none")
        name = None
    else:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        scaled, lv = tile_levels(tiles, levels, per_tile)
        values = compose(scaled, plan)
        # coloured here, at the mosaic's own resolution: matplotlib then only scales RGBA bytes (colouring
        # a float image at the output resolution costs ~4x more for a 1024-map figure)
        mappable = ScalarMappable(Normalize(lv[0], lv[1]), colormaps[cmap].with_extremes(bad="white"))
        image = ax.imshow(mappable.to_rgba(values, bytes=True), interpolation="none")
        image.cnnviz_values = values
        name = cmap
    ax.set_axis_off()
    size = plan.label_pt / plan.pt_per_px * 0.98  # label height in pixels (data units)
    patches = []
    texts_drawn = [str(s) for s in labels] if labels else []
    if plan.mode == "tiles" and labels:
        origins = np.array([plan.origin(k) for k in range(len(labels))], float).reshape(-1, 2)
        x = origins[:, 1] + (plan.tile_w - 1) / 2
        y = origins[:, 0] - 0.5 - 0.2 * size
        patches.append(label_path([str(s) for s in labels], x, y, size))
    elif plan.mode == "grid" and labels:
        rows = np.arange(plan.nrows)
        starts = [str(r * plan.ncols) for r in rows]
        y = plan.top + rows * plan.cell_h + plan.band + (plan.tile_h - 1) / 2 + 0.35 * size
        patches.append(label_path(starts, np.full(len(rows), plan.left - 0.5 - 0.3 * size), y, size, "right"))
        cols = np.arange(plan.ncols)
        step = max(1, int(np.ceil((DIGIT_EM * 4 + 0.5) * size / plan.cell_w)))  # '+12' and a space
        cols = cols[::step]
        x = plan.left + cols * plan.cell_w + (plan.tile_w - 1) / 2
        patches.append(
            label_path([f"+{c}" for c in cols], x, np.full(len(cols), plan.top - 0.5 - 0.25 * size), size)
        )
    for path in patches:
        if path is not None:
            artist = PathPatch(path, facecolor=label_color, edgecolor="none", lw=0, transform=ax.transData)
            artist.set_gid(LABELS_GID)  # the SVG group's id; mosaic_labels() finds the texts by it
            artist.cnnviz_texts = texts_drawn
            ax.add_artist(artist)
            texts_drawn = []  # the tile labels are recorded once
    if crossed is not None and np.any(crossed):
        segs = []
        for k in np.flatnonzero(np.asarray(crossed)[: plan.n]):
            t, l = plan.origin(k)
            b, r = t + plan.tile_h - 1, l + plan.tile_w - 1
            segs += [[(l - 0.5, t - 0.5), (r + 0.5, b + 0.5)], [(l - 0.5, b + 0.5), (r + 0.5, t - 0.5)]]
        ax.add_collection(LineCollection(segs, colors="tab:red", linewidths=0.8), autolim=False)
    ax.set_xlim(-0.5, plan.width_px - 0.5)
    ax.set_ylim(plan.height_px - 0.5, -0.5)
    return DrawnMosaic(plan, image, lv, name, values, mappable)


def mosaic_values(fig) -> np.ndarray | None:
    """The scalar values (NaN between tiles) of the first mosaic drawn by :func:`draw_mosaic` in ``fig``."""
    for ax in fig.axes:
        for image in ax.get_images():
            values = getattr(image, "cnnviz_values", None)
            if values is not None:
                return values
    return None


def mosaic_labels(fig) -> list[str]:
    """The tile labels drawn by :func:`draw_mosaic` anywhere in ``fig`` (to check a figure in tests)."""
    out = []
    for ax in fig.axes:
        for artist in ax.get_children():
            if artist.get_gid() == LABELS_GID:
                out.extend(getattr(artist, "cnnviz_texts", []))
    return out


# -- whole figures ------------------------------------------------------------------------------------------
def wrap_title(title: str, width_in: float, fontsize: float = TITLE_PT) -> str:
    """``title`` broken into lines that fit ``width_in`` inches at ``fontsize`` (a wide character is ~0.6 em)."""
    chars = max(20, int(width_in * 72.0 / (0.6 * fontsize)))
    return "\n".join(textwrap.wrap(title, chars)) if title else ""


@dataclass
class MosaicFigure:
    """A figure made by :func:`mosaic_figure`: the figure, the drawn mosaic and the free side rectangle
    (figure fractions: left, bottom, width, height; None without a side panel)."""

    figure: object
    mosaic: DrawnMosaic
    side_rect: tuple[float, float, float, float] | None
    colorbar: object | None = None


def mosaic_figure(
    tiles: np.ndarray,
    labels: list[str] | None = None,
    *,
    title: str = "",
    cmap: str = "viridis",
    levels=None,
    per_tile: bool = False,
    colorbar_label: str | None = "value",
    crossed: np.ndarray | None = None,
    ncols: int | None = None,
    positions: np.ndarray | None = None,
    side_width_in: float = 0.0,
    side_height_in: float = 0.0,
    max_width_in: float = 13.0,
    max_height_in: float = 13.0,
) -> MosaicFigure:
    """A figure with a wrapped title on top, the mosaic of ``tiles``, a colour bar (scalar tiles with a
    ``colorbar_label``) and optionally an empty side panel on the left for the caller to fill."""
    tiles = np.asarray(tiles, dtype=np.float32)
    plan = plan_mosaic(
        len(tiles), tiles.shape[1:3], labels, ncols=ncols, positions=positions,
        max_width_in=max_width_in, max_height_in=max_height_in,
    )  # fmt: skip
    bar = colorbar_label is not None and tiles.ndim == 3
    margin, gap = 0.2, 0.25
    bar_w = 0.95 if bar else 0.0
    side_w = side_width_in + gap if side_width_in else 0.0
    width = margin + side_w + plan.width_in + bar_w + margin
    width = max(width, 4.0)
    wrapped = wrap_title(title, width - 2 * margin)
    title_h = (0.2 * (wrapped.count("\n") + 1) + 0.2) if wrapped else 0.1
    body_h = max(plan.height_in, side_height_in, 1.0 if bar else 0.0)
    height = margin + title_h + body_h + margin
    fig = new_figure(width, height)
    fig.set_layout_engine("none")
    if wrapped:
        fig.suptitle(wrapped, x=0.5, y=1 - margin / height, ha="center", va="top", fontsize=TITLE_PT)
    body_top = height - margin - title_h
    mx = margin + side_w
    my = body_top - plan.height_in  # top-aligned
    ax = fig.add_axes((mx / width, my / height, plan.width_in / width, plan.height_in / height))
    drawn = draw_mosaic(ax, tiles, plan, labels, cmap=cmap, levels=levels, per_tile=per_tile, crossed=crossed)
    cb = None
    if bar:
        bh = min(plan.height_in, 4.0) if plan.height_in >= 1.0 else 1.0
        cax = fig.add_axes(
            ((mx + plan.width_in + 0.12) / width, (body_top - bh) / height, 0.12 / width, bh / height)
        )
        cax.set_label("<colorbar>")  # as matplotlib names the colour bars it places itself
        cb = fig.colorbar(drawn.mappable, cax=cax)
        cb.set_label(colorbar_label, fontsize=8)
        cb.ax.tick_params(labelsize=7)
    side = None
    if side_width_in:
        sh = max(side_height_in, plan.height_in)
        side = (margin / width, (body_top - sh) / height, side_width_in / width, sh / height)
    return MosaicFigure(fig, drawn, side, cb)
