"""The Latent tab with the bundled VAE (synchronous compute): encode, decode on click, grid, interpolation,
generation, the current input's point, exports; a classifier is explained, not explored."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from cnnviz_gui.core.datasets import load_bundled_mnist
from cnnviz_gui.core.latent.space import bundled_autoencoder_path
from cnnviz_gui.core.runtime.local import LocalCompute

VAE = bundled_autoencoder_path("vae")


def _open(view, path=VAE) -> None:
    """Open ``path`` in the view's compute and make it the state's model (as the model opener does)."""
    from conftest import open_model_in

    open_model_in(view.bridge, view.state, path)


@pytest.fixture
def panel(qtbot):
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.latent.panel import LatentPanel
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    state = AppState()
    bridge = ComputeBridge(LocalCompute(synchronous=True))
    view = LatentPanel(state, bridge)
    qtbot.addWidget(view)
    view.resize(1200, 850)
    view.show()
    qtbot.waitExposed(view)
    yield view
    bridge.shutdown()


def test_vae_is_recognised_encoded_and_drawn(panel):
    _open(panel)
    assert "variational autoencoder (VAE) with a 2-D latent space" in panel.correction.message.text()
    assert panel.z.shape == (10000, 2) and panel.labels.shape == (10000,)
    assert panel.scatter.n_shown == 10000 and len(panel.scatter.class_items) == 10
    assert len(panel.scatter.legend.items) == 10
    assert sum(len(item.data) for item in panel.scatter.class_items) == 10000
    text = panel.stats_text.toPlainText()
    assert "r99 = " in text and "class centroids" in text and "z1: [" in text
    assert panel.stats.r99 < 4.5
    # the view shows the data (and a little around it)
    x0, x1, y0, y1 = panel.scatter.visible_bounds()
    inside = (
        (panel.shown[:, 0] > x0)
        & (panel.shown[:, 0] < x1)
        & (panel.shown[:, 1] > y0)
        & (panel.shown[:, 1] < y1)
    )
    assert inside.mean() > 0.98


def test_click_on_the_scatter_decodes_at_once(panel, qtbot):
    _open(panel)
    assert panel.decoded_tile.array is None
    # a real left click in the middle of the plot area
    vb = panel.scatter.plotItem.vb
    centre = vb.sceneBoundingRect().center()
    widget_pos = panel.scatter.mapFromScene(centre)
    qtbot.mouseClick(
        panel.scatter.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(widget_pos.x(), widget_pos.y())
    )
    first = panel.decoded_tile.array.copy()
    assert first.shape == (28, 28) and first.max() > 0.3
    expected = vb.mapSceneToView(QPointF(centre))
    assert panel.pinned == pytest.approx((expected.x(), expected.y()), abs=0.05)
    assert "decoded at" in panel.decoded_tile.title.text
    # another place decodes another image
    c0 = panel.stats.centroids[1]
    panel.scatter.clicked.emit(float(c0[0]), float(c0[1]))
    second = panel.decoded_tile.array
    assert np.abs(second - first).mean() > 0.02
    assert panel.last_decode_ms is not None


def test_grid_interpolation_generation_and_exports(panel, tmp_path):
    from cnnviz_gui.core.figures import save, save_arrays

    _open(panel)
    panel.grid_n.setValue(12)
    panel.decode_grid()
    assert panel.manifold.mosaic.shape == (12 * 28, 12 * 28)
    assert panel.grid.bounds == pytest.approx(panel.scatter.visible_bounds())
    panel.set_endpoint("A", panel._sample_z(0))
    panel.set_endpoint("B", panel._sample_z(2))
    panel.steps.setValue(8)
    panel.interpolate()
    assert panel.strip.array.shape == (28, 8 * 30 - 2)
    assert len(panel.scatter.ab_markers.data) == 2
    panel.n_samples.setValue(16)
    panel.generate()
    assert [s.method for s in panel.generation.sets] == ["prior", "fitted", "neighbourhood"]
    assert len(panel.gen_view.columns) == 3
    assert panel.gen_summary.text().startswith(panel.generation.summary())
    assert panel.gen_summary.text().startswith("Samples off the data: prior N(0, I) ")
    assert "(16 per method; off = farther than 3x" in panel.gen_summary.text()
    off = (1 - panel.dataset.prior.on_data_share) * 100
    assert panel.gen_summary.text().endswith(
        f"With 2,000 prior samples (see the statistics): {off:.0f}% off the data."
    )
    for part, name in (("scatter", "s.png"), ("manifold grid", "m.svg"), ("interpolation strip", "i.pdf"),
                       ("generation", "g.png")):  # fmt: skip
        fig = panel.export_figure(part)
        assert fig is not None, part
        assert save(fig, tmp_path / name).stat().st_size > 5000
    arrays = panel.export_arrays()
    assert {
        "z",
        "labels",
        "extent",
        "grid_mosaic",
        "interpolation_images",
        "generated_prior_confidence",
    } <= set(arrays)
    save_arrays(arrays, tmp_path / "latent.npz")
    with np.load(tmp_path / "latent.npz") as data:
        assert data["z"].shape == (10000, 2)


def test_current_input_is_marked_and_moves(panel):
    ds = load_bundled_mnist()
    _open(panel)
    panel.state.set_input(ds.image(5), "sample 5")
    first = panel.scatter.input_marker.data["x"][0], panel.scatter.input_marker.data["y"][0]
    assert first == pytest.approx(tuple(panel.z[5]), abs=1e-4)
    panel.state.set_input(ds.image(7), "sample 7")
    second = panel.scatter.input_marker.data["x"][0], panel.scatter.input_marker.data["y"][0]
    assert second == pytest.approx(tuple(panel.z[7]), abs=1e-4) and second != first


def test_classifier_is_explained_and_correction_offered(panel, default_model_path):
    _open(panel, default_model_path)
    text = panel.correction.message.text()
    assert "maps an image to 10 numbers" in text and "bottleneck" in text and "bundled" in text
    assert panel.z is None and panel.scatter.n_shown == 0
    assert panel.correction.bottleneck_box.count() > 0 and panel.correction.split.isEnabled()
    panel.correction.bottleneck_box.setCurrentText("Dense_1")
    panel.correction.split.click()
    assert "does not make images" in panel.correction.message.text()
    requested = []
    panel.open_model_requested.connect(requested.append)
    panel.correction.default_vae.click()
    assert requested and requested[0].endswith("mnist_vae.keras")


def test_encoder_and_decoder_files(panel, tmp_path):
    from cnnviz_gui.core.training.autoencoders import build_decoder, build_encoder

    build_encoder(latent_dim=3).save(tmp_path / "enc.keras")
    build_decoder(latent_dim=3).save(tmp_path / "dec.keras")
    panel.recognise(files=(str(tmp_path / "enc.keras"), str(tmp_path / "dec.keras")))
    message = panel.correction.message.text()
    assert "encoder file 'enc.keras', decoder file 'dec.keras'" in message and "3-D latent space" in message
    assert panel.z.shape == (10000, 3)
    assert panel.controls.projection_method() == "pca" and panel.controls.x_box.isEnabled()
    assert panel.projection.axis_names[0].startswith("PC1")
    panel.controls.y_box.setCurrentIndex(2)  # PC1 against PC3
    assert panel.projection.axes == (0, 2)
    panel.scatter.clicked.emit(0.0, 0.0)
    assert "approximate" in panel.decoded_tile.title.text


def test_main_window_has_the_latent_tab_and_exports_it(qtbot, tmp_path):
    from cnnviz_gui.ui.app import create_main_window

    window = create_main_window(LocalCompute(synchronous=True))
    qtbot.addWidget(window)
    _open(window)
    window.tabs.setCurrentWidget(window.latent_panel)
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Latent"
    written = window.export_active_view(str(tmp_path / "latent.png"))
    assert written is not None and written.stat().st_size > 20000
    window.bridge.shutdown()


def test_the_compute_process_marks_an_input_set_before_the_model(qtbot):
    """Through the real compute process: the input chosen before the VAE opens is marked once encoding ends."""
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.latent.panel import LatentPanel
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    from cnnviz_gui.core.runtime.compute_process import ComputeProcess
    from cnnviz_gui.ui.state import OpenModel

    state, bridge = AppState(), ComputeBridge(ComputeProcess())
    view = LatentPanel(state, bridge)
    qtbot.addWidget(view)
    try:
        state.set_input(load_bundled_mnist().x[9], "sample 9")
        bridge.request("models.open", {"model_id": "vae", "path": str(VAE)}, on_result=lambda r: state.set_model(
            OpenModel(r.model_id, str(VAE), r.info, r.convention, r.read_started)))  # fmt: skip
        qtbot.waitUntil(
            lambda: len(view.scatter.input_marker.data) == 1 and view.shown is not None, timeout=120_000
        )
        marker = view.scatter.input_marker.data[0]
        assert (marker["x"], marker["y"]) == pytest.approx(tuple(view.z[9]), abs=1e-4)
        view.scatter.hovered.emit(0.0, -1.0)
        qtbot.waitUntil(lambda: view.decoded_tile.array is not None, timeout=10000)
    finally:
        bridge.shutdown()


def test_many_points_are_drawn_as_a_subset_unless_all_are_asked(qtbot):
    from cnnviz_gui.ui.latent.widgets import DEFAULT_MAX_SHOWN, LatentScatter

    scatter = LatentScatter()
    qtbot.addWidget(scatter)
    rng = np.random.default_rng(0)
    pts, labels = rng.standard_normal((70000, 2)).astype(np.float32), rng.integers(0, 10, 70000)
    scatter.set_points(pts, labels, max_shown=DEFAULT_MAX_SHOWN)
    assert scatter.n_shown == DEFAULT_MAX_SHOWN
    drawn = np.concatenate([np.stack([item.data["x"], item.data["y"]], 1) for item in scatter.class_items])
    assert (
        len(drawn) == DEFAULT_MAX_SHOWN
        and len({tuple(p) for p in drawn[:500]} - {tuple(p) for p in pts}) == 0
    )
    counts = np.array([len(item.data) for item in scatter.class_items])
    assert counts.min() > 0.8 * DEFAULT_MAX_SHOWN / 10  # each class keeps about its share
    scatter.set_points(pts, labels, max_shown=None)
    assert scatter.n_shown == 70000


def test_a_dataset_that_fails_leaves_the_tab_usable(panel, tmp_path):
    _open(panel)
    z_before = panel.z
    panel.encode(str(tmp_path / "missing.npz"))
    assert (
        "Encoding failed" in panel.stats_text.toPlainText()
        and "missing.npz" in panel.stats_text.toPlainText()
    )
    assert panel.z is z_before and not panel.progress.isVisible()
    panel.scatter.clicked.emit(0.0, -1.0)
    assert panel.decoded_tile.array is not None
