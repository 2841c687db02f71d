"""What the Latent tab's Traversal page asks of the compute process: the traversal, and a decode per slider
position.

The traversal (``latent.traverse``, kind ``latent-traverse``) moves every latent dimension from -R to +R
standard deviations around the centre; the sliders then start from that centre. A slider decode
(``latent.decode_point``, kind ``latent-slider``) is one compiled call; at most one is in flight and the
newest slider position is sent when it returns, so images keep coming during a drag faster than a round trip
and the position the person stops at is the one shown. Results go into the panel's
:class:`~cnnviz_gui.ui.latent.exploration.Exploration` (replaced as a whole) and its widgets.
"""

from __future__ import annotations

import time

import numpy as np

from cnnviz_gui.core.latent.figures import traversal_mosaic

#: a traversal starts by itself (after encoding, a new centre, steps or range) up to this many decoded values
#: (32 MB of float32); a bigger one waits for the Traverse button
AUTO_TRAVERSE_VALUES = 8_000_000


class TraversalJobs:
    """The Traversal page's requests for ``panel`` (a :class:`~cnnviz_gui.ui.latent.panel.LatentPanel`)."""

    def __init__(self, panel):
        self.panel = panel
        self.job = None  # the slider decode in flight (at most one)
        self.pending: np.ndarray | None = None  # the newest slider point, sent when the one in flight returns
        self.last_ms: float | None = None  # the last slider decode: request to result, in ms

    def clear(self, message: str) -> None:
        """Forget the traversal and the sliders (a new model or encoder/decoder); show ``message``."""
        p = self.panel
        self.pending = None
        p.bridge.cancel_kind("latent-slider")
        p._set(traversal=None, slider_z=None, slider_image=None)
        p.traversal_plot.clear_traversal()
        p.traversal_tab.set_message(message)
        p.sliders.set_dimensions([], [], p.traversal_tab.range_sd.value(), 0)
        p.sliders.note.setText("The sliders appear with the traversal.")
        p.slider_tile.set_image(None)
        p.slider_label.setText("")

    def traverse(self, auto: bool = False) -> None:
        """Move every latent dimension from -R to +R SD around the centre (the data's mean or the pinned
        point), decoded in the compute process. ``auto``: asked by a change of the data or the settings rather
        than the Traverse button (a very big traversal then waits for the button)."""
        p = self.panel
        v, tab = p.view, p.traversal_tab
        if v.space is None or v.z is None:
            if not auto:
                tab.set_message("Encode a dataset first: the traversal moves around its mean")
            return
        centre = None
        if tab.centre_choice() == "pinned":
            centre = p._pinned_z()
            if centre is None:
                tab.set_message("Click the scatter to pin a point (or choose the data's mean as the centre)")
                return
        d, steps, range_sd = v.recognition.z_dim, tab.steps.value(), tab.range_sd.value()
        values = d * steps * int(np.prod(v.recognition.output_shape))
        if auto and values > AUTO_TRAVERSE_VALUES:
            tab.set_message(
                f"{d} dimensions x {steps} steps = {d * steps:,} decoded images ({values * 4 / 1e6:.0f} MB): "
                "press Traverse"
            )
            return
        tab.set_message(f"Decoding {d} dimensions x {steps} steps…")
        p.progress.setVisible(True)
        p.progress.setValue(0)

        def on_error(err):
            p.progress.setVisible(False)
            tab.set_message(f"Traversal failed: {err.message}")

        params = {"space": v.space, "z": v.z, "centre": centre, "steps": steps, "range_sd": range_sd}
        p.bridge.request("latent.traverse", params, kind="latent-traverse", label="Traversing the latent space",
                         on_result=lambda tr: self._on_traversed(tr, centre is not None), on_error=on_error,
                         on_progress=p._on_progress, on_stopped=lambda _: p.progress.setVisible(False))  # fmt: skip

    def _on_traversed(self, tr, pinned: bool) -> None:
        p = self.panel
        p.progress.setVisible(False)
        p._set(traversal=tr, traversal_pinned=pinned, slider_z=None, slider_image=None)
        where = "the pinned point" if pinned else "the data's mean"
        r = tr.range_sd
        p.traversal_tab.set_message(
            f"{tr.z_dim} latent dimensions, each moved from -{r:g} to +{r:g} SD around {where}; rows sorted by "
            "how much the image changes (the mean over pixels of each pixel's SD along the row)."
        )
        mosaic, pad = traversal_mosaic(tr)
        p.traversal_plot.set_traversal(tr, mosaic, pad)
        p.sliders.set_dimensions(tr.dims, tr.change, r, tr.z_dim)
        self.slide()  # the centre itself, decoded

    def slide(self) -> None:
        """Decode the point the sliders set: sent now if no slider decode is in flight, else when it returns."""
        p = self.panel
        tr = p.view.traversal
        if tr is None or p.view.space is None:
            return
        z = tr.moved(p.sliders.offsets())
        p._set(slider_z=z)
        self.pending = z
        if self.job is None or self.job.ended:
            self._send()

    def _send(self) -> None:
        z, self.pending = self.pending, None
        if z is None:
            return
        p = self.panel
        space, tr, started = p.view.space, p.view.traversal, time.perf_counter()

        def on_result(image):
            if p.view.space == space and p.view.traversal is tr:  # else: a newer traversal or space
                p._set(slider_image=image)
                p.slider_tile.set_image(image)
                p.slider_label.setText(point_text(tr, z))
                self.last_ms = (time.perf_counter() - started) * 1000
            self._send()  # the newest position, if the sliders moved meanwhile

        def on_error(err):
            p.slider_tile.set_image(None)
            p.slider_label.setText(f"Decoding failed: {err.message}")
            self._send()

        self.job = p.bridge.request(
            "latent.decode_point", {"space": space, "z": z}, kind="latent-slider", label="Decoding",
            on_result=on_result, on_error=on_error, on_stopped=lambda _: None,
        )  # fmt: skip


def point_text(tr, z: np.ndarray) -> str:
    """Where the sliders' point ``z`` is: the traversal's centre and the dimensions moved, in SD."""
    moved = [(k, (z[k] - tr.centre[k]) / tr.sd[k]) for k in range(tr.z_dim) if z[k] != tr.centre[k]]
    if not moved:
        return "the centre"
    parts = ", ".join(f"z{k} {o:+.2f} SD" for k, o in moved[:4])
    return f"the centre with {parts}{', …' if len(moved) > 4 else ''}"
