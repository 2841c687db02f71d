"""The OIP atlas: every map's final OIP as one tile of one mosaic image, sorted, labelled, with a hover
read-out and tooltip (final loss, share kept under a 4-pixel shift, ratio to the best dataset image, which
dataset image a patch comes from); click a tile for that map's run.

A tile is the map's K diverse images side by side (colour for RGB models, the colour map for grey ones) and,
when dataset exemplars are shown, after a wider gap its best dataset patches, strongest first. Maps that do
not react are faded and crossed out. The tiles are built once per result, order and option; a resize only
re-flows them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cnnviz_gui.ui.oip import images as im
from cnnviz_gui.ui.widgets.image_widgets import LiveLabel
from cnnviz_gui.ui.widgets.map_grid import TileLabels, view_point

MAX_CELL = 96  # pixels of one image in a tile (larger images are scaled down; click a tile for full size)


@dataclass
class TileLayout:
    """Where things are inside one tile (data pixels): a label band on top, then ``n_oip`` image cells and
    ``n_patches`` patch cells of ``cell`` pixels, ``gap`` apart, ``big_gap`` before the first patch."""

    cell: int
    n_oip: int
    n_patches: int
    gap: int
    big_gap: int
    band: int

    @property
    def width(self) -> int:
        oip = self.n_oip * self.cell + (self.n_oip - 1) * self.gap
        if not self.n_patches:
            return oip
        return oip + self.big_gap + self.n_patches * self.cell + (self.n_patches - 1) * self.gap

    @property
    def height(self) -> int:
        return self.band + self.cell

    def cell_left(self, kind: str, j: int) -> int:
        if kind == "oip":
            return j * (self.cell + self.gap)
        oip = self.n_oip * self.cell + (self.n_oip - 1) * self.gap
        return oip + self.big_gap + j * (self.cell + self.gap)

    def part_at(self, x: float, y: float) -> tuple[str, int] | None:
        """("oip", j) or ("patch", j) at tile coordinates (x, y); ("label", 0) in the band; None in a gap."""
        if y < self.band:
            return ("label", 0)
        for kind, count in (("oip", self.n_oip), ("patch", self.n_patches)):
            for j in range(count):
                left = self.cell_left(kind, j)
                if left <= x < left + self.cell:
                    return (kind, j)
        return None


def tile_images(result, i: int, initial: bool) -> np.ndarray:
    """The images of map position ``i`` a tile shows: its K final images (K, H, W, C), or its start image."""
    return result.initial[i][None] if initial else result.image_sets()[i]


def build_tiles(result, order, contrast=True, cmap="viridis", initial=False, exemplars=None, top=3):
    """Tiles (N, height, width, 3) in 0..1 for the maps at positions ``order`` and their :class:`TileLayout`.

    ``contrast``: each image stretched between its own 2nd and 98th percentiles; otherwise grey images share
    one range over the atlas and colour images are shown as they are. ``exemplars`` (an ``ExemplarResult`` of
    these maps): the ``top`` best patches follow each OIP.
    """
    h, w = result.images.shape[-3:-1]
    cell = int(min(max(h, w), MAX_CELL))
    n_oip = 1 if initial else result.diversity
    top = max(1, min(int(top), exemplars.top)) if exemplars is not None else 0
    layout = TileLayout(cell, n_oip, top, gap=1, big_gap=max(2, cell // 12), band=max(14, cell // 4))
    stack = np.stack([tile_images(result, i, initial) for i in order])  # (N, K, H, W, C)
    shown = im.stretch(stack.reshape(-1, *stack.shape[2:])) if contrast else stack
    shown = shown.reshape(stack.shape)
    lo, hi = 0.0, 1.0
    if not contrast and stack.shape[-1] != 3:
        finite = stack[np.isfinite(stack)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    tiles = np.zeros((len(order), layout.height, layout.width, 3), np.float32)
    for t, i in enumerate(order):
        rgb = im.colourise(shown[t], cmap, lo, hi)
        if not result.reacts[i]:
            rgb = im.greyed(rgb)
        for j, img in enumerate(rgb):
            left = layout.cell_left("oip", j)
            tiles[t, layout.band :, left : left + cell] = im.fit(img, cell)
        if exemplars is not None:
            row = exemplars.position_of(int(result.maps[i]))
            patches = im.patches_rgb(exemplars.patches[row][:top], exemplars.values[row][:top] <= 0)
            for j, patch in enumerate(patches):
                left = layout.cell_left("patch", j)
                tiles[t, layout.band :, left : left + cell] = im.fit(patch, cell)
    return tiles, layout


def map_description(result, i: int) -> str:
    """What a person wants to know about map position ``i`` of a result, in one line."""
    m = int(result.maps[i])
    parts = [f"map {m}: final loss {result.losses[i]:.4g}"]
    if not result.reacts[i]:
        parts.append("does not react")
    else:
        parts.append(
            f"converged at step {int(result.converged_step[i])}" if result.converged[i] else "not converged"
        )
    if result.shift_kept is not None and np.isfinite(result.shift_kept[i]):
        parts.append(f"keeps {result.shift_kept[i] * 100:.0f}% of its activation under a 4-px shift")
    data = result.reference_dataset or "the dataset"
    if result.vs_best_exemplar is not None:
        ratio = result.vs_best_exemplar[i]
        parts.append(
            f"{ratio:.3g}× the activation of the best image of {data}"
            if np.isfinite(ratio)
            else f"no image of {data} activates it"
        )
    if result.data_active is not None and not result.data_active[i]:
        parts.append(f"never active on {data}")
    return ", ".join(parts)


def exemplar_description(exemplars, m: int, j: int) -> str:
    """Exemplar ``j`` of map ``m``: which dataset image, its class, the response and where."""
    row = exemplars.position_of(m)
    index, label = int(exemplars.indices[row, j]), int(exemplars.labels[row, j])
    names = exemplars.class_names
    name = names[label] if 0 <= label < len(names) else str(label)
    value = float(exemplars.values[row, j])
    r, c = (int(v) for v in exemplars.positions[row, j])
    where = f" at map position ({r}, {c})" if exemplars.map_size else ""
    silent = " (no image activates this map)" if value <= 0 else ""
    return (
        f"exemplar {j + 1} of map {m}: image #{index} ('{name}') of {exemplars.dataset}, strongest response "
        f"{value:.4g}{where}{silent}"
    )


class AtlasView(QWidget):
    """The layer's OIPs in one mosaic; hover for the read-outs, click a tile for its run."""

    #: a tile was clicked: the position of its map in the result
    tile_clicked = Signal(int)
    #: a tile was clicked: its place in the atlas order
    map_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("k")
        self.plot = self.glw.addPlot()
        for axis in ("left", "bottom"):
            self.plot.hideAxis(axis)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.labels = TileLabels(min_pixels=10)
        self.plot.addItem(self.labels)
        # red with a white rim: visible on every colour map and on colour images
        self.crosses = pg.ScatterPlotItem(
            symbol="x", size=18, brush=pg.mkBrush("#ff3030"), pen=pg.mkPen("w", width=1.5)
        )
        self.plot.addItem(self.crosses)
        self.message = pg.TextItem("", color="#dddddd", anchor=(0.5, 0.5))
        self.plot.addItem(self.message)
        self.readout = LiveLabel(" ")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.readout)
        self.result = None
        self.exemplars = None
        self.order = np.zeros(0, int)
        self.tiles: np.ndarray | None = None
        self.layout_: TileLayout | None = None
        self.cmap = "viridis"
        self.ncols = 1
        self.spacing = 2
        self._options: dict = {}
        self.glw.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.glw.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.plot.getViewBox().sigResized.connect(self._on_view_resized)
        self.map_clicked.connect(lambda k: self.tile_clicked.emit(int(self.order[k])))

    # -- content ----------------------------------------------------------------------------------------
    def set_result(self, result, by="loss", contrast=True, initial=False, exemplars=None, top=3) -> None:
        """Show ``result`` sorted ``by`` (``core.oip.figures.ATLAS_ORDERS``); ``initial``: the start images in
        the same places; ``exemplars``: the ``top`` best dataset patches beside each OIP."""
        from cnnviz_gui.core.oip.figures import atlas_order

        self.result, self.exemplars = result, exemplars
        self.order = atlas_order(result, by)
        self._options = dict(contrast=contrast, initial=initial, exemplars=exemplars, top=top)
        self._build()

    def set_colormap(self, name: str) -> None:
        """The colour map of grey OIPs (colour OIPs and dataset patches keep their colours)."""
        changed = name != self.cmap
        self.cmap = name
        if changed and self.result is not None and self.result.channels != 3:
            self._build()

    def clear(self, message: str = "") -> None:
        self.result = self.exemplars = self.tiles = self.layout_ = None
        self.order = np.zeros(0, int)
        self.image.clear()
        self.labels.set_items([], 1)
        self.crosses.setData([], [])
        self.message.setText(message)
        self.readout.setText(message or " ")

    def _build(self) -> None:
        r = self.result
        self.tiles, self.layout_ = build_tiles(r, self.order, cmap=self.cmap, **self._options)
        self.spacing = max(4, self.layout_.cell // 3)  # clearly wider than the gaps inside a tile
        self.ncols = self.fitting_columns()
        self._lay_out()
        self.message.setText("")
        self.readout.setText("hover a tile for its read-outs; click it to see its run")

    def fitting_columns(self) -> int:
        """The number of columns that shows the tiles largest in the view's current size."""
        n = len(self.tiles)
        th, tw = self.tiles.shape[1:3]
        rect = self.plot.getViewBox().sceneBoundingRect()
        vw, vh = max(rect.width(), 50.0), max(rect.height(), 50.0)
        best, best_scale = 1, 0.0
        for cols in range(1, n + 1):
            rows = -(-n // cols)
            scale = min(vw / (cols * (tw + self.spacing)), vh / (rows * (th + self.spacing)))
            if scale > best_scale * 1.0001:
                best, best_scale = cols, scale
        return best

    def tile_origin(self, k: int) -> tuple[int, int]:
        """Top-left data coordinates (x, y) of the tile at place ``k``."""
        th, tw = self.tiles.shape[1:3]
        return (k % self.ncols) * (tw + self.spacing), (k // self.ncols) * (th + self.spacing)

    def cell_pixels(self, k: int, kind: str = "oip", j: int = 0) -> np.ndarray:
        """The shown pixels (uint8 RGB) of cell ``j`` ("oip" image or "patch") of the tile at place ``k``."""
        x, y = self.tile_origin(k)
        lay = self.layout_
        left, top = x + lay.cell_left(kind, j), y + lay.band
        return self.image.image[top : top + lay.cell, left : left + lay.cell]

    def _lay_out(self) -> None:
        mosaic = im.to_u8(im.grid(self.tiles, self.ncols, self.spacing, fill=0.0))
        self.image.setImage(mosaic, autoLevels=False, levels=None)
        self.image.setRect(QRectF(0, 0, mosaic.shape[1], mosaic.shape[0]))
        r, lay = self.result, self.layout_
        labels, xs, ys = [], [], []
        oip_mid = (lay.cell_left("oip", lay.n_oip - 1) + lay.cell) / 2
        for k, i in enumerate(self.order):
            x, y = self.tile_origin(k)
            mark = "" if r.data_active is None or r.data_active[i] else "*"
            text = (
                f"{int(r.maps[i])}{mark}: {r.losses[i]:.3g}"
                if r.reacts[i]
                else f"{int(r.maps[i])}: no reaction"
            )
            labels.append((x, y, text))
            if not r.reacts[i]:
                xs.append(x + oip_mid)
                ys.append(y + lay.band + lay.cell / 2)
        self.labels.set_items(labels, lay.band)
        self.crosses.setData(xs, ys)
        self.plot.autoRange(padding=0.01)

    def _on_view_resized(self, *_) -> None:
        if self.tiles is not None and self.fitting_columns() != self.ncols:
            self.ncols = self.fitting_columns()
            self._lay_out()

    # -- hover and click --------------------------------------------------------------------------------
    def hit(self, x: float, y: float) -> tuple[int, tuple[str, int] | None] | None:
        """(place in the atlas, part of the tile) at data coordinates (x, y), or None between tiles."""
        if self.tiles is None or x < 0 or y < 0:
            return None
        th, tw = self.tiles.shape[1:3]
        c, dx = divmod(x, tw + self.spacing)
        r, dy = divmod(y, th + self.spacing)
        k = int(r) * self.ncols + int(c)
        if c >= self.ncols or dx >= tw or dy >= th or k >= len(self.order):
            return None
        return k, self.layout_.part_at(dx, dy)

    def describe(self, k: int, part: tuple[str, int] | None) -> str:
        """The read-out of place ``k`` (and the part of its tile under the mouse)."""
        r = self.result
        i = int(self.order[k])
        text = map_description(r, i)
        if part is not None and part[0] == "oip" and r.diversity > 1 and r.image_losses is not None:
            j = part[1]
            text = f"image {j + 1}/{r.diversity} ({r.image_losses[i, j]:.4g}) of " + text
        if part is not None and part[0] == "patch" and self.exemplars is not None:
            text = exemplar_description(self.exemplars, int(r.maps[i]), part[1]) + " — " + text
        return text

    def _scene_hit(self, pos):
        pt = view_point(self.plot, pos)
        return None if pt is None else self.hit(*pt)

    def _on_mouse_moved(self, pos) -> None:
        found = self._scene_hit(pos)
        if found is None or self.result is None:
            self.glw.setToolTip("")
            return
        text = self.describe(*found)
        self.readout.setText(text)
        self.glw.setToolTip(text)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        found = self._scene_hit(event.scenePos())
        if found is not None:
            self.map_clicked.emit(found[0])
