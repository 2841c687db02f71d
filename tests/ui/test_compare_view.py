"""The Compare tab: pinned inputs with shared levels, class statistics heat map, class difference, export."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_window
from PySide6.QtCore import QPointF, Qt

from cnnviz_gui.core.activations.probe import get_probe
from cnnviz_gui.core.activations.statistics import class_difference
from cnnviz_gui.core.preprocess import standardise
from cnnviz_gui.ui.activations.compare import MAX_PINS


@pytest.fixture
def window(qtbot, default_model_path):
    w = make_window(qtbot)
    w.resize(1400, 900)
    w.open_model_file(str(default_model_path))
    w._set_default_input()
    w.tabs.setCurrentWidget(w.compare_view)
    return w


def pin_samples(w, indices):
    for i in indices:
        w.input_panel.browser.select(int(i))
        assert w.compare_view.pin_current()


def test_pinned_inputs_share_levels_row_by_row(window):
    w, view = window, window.compare_view
    ds = w.state.dataset
    fours = np.flatnonzero(ds.y == 4)[:3]
    nine = np.flatnonzero(ds.y == 9)[0]
    w.state.select_layer("Conv2D_2")
    pin_samples(w, [*fours, nine])
    assert view.pin_list.count() == 4
    key, outs = view.pinned_outputs()
    assert key == "Conv2D_2" and len(outs) == 4
    images = np.stack([ds.image(i) for i in [*fours, nine]])
    expected = get_probe(w.bridge.backend.store.model(w.state.model_id))(standardise(images))["Conv2D_2"]
    np.testing.assert_allclose(np.stack(outs), expected, rtol=1e-4, atol=1e-5)
    # one mosaic: 64 maps per input in 32 columns, two rows plus a separating row per input
    tiles = view.grid.maps
    assert tiles.shape == (4 * 3 * 32, 11, 11) and view.grid.ncols == 32
    np.testing.assert_allclose(tiles[96 + 40], expected[1][..., 40], rtol=1e-4, atol=1e-5)
    assert np.isnan(tiles[64:96]).all()
    lo, hi = view.grid.levels  # one scale for every row
    assert lo <= expected.min() and expected.max() <= hi <= 1.25 * expected.max()
    assert "4 pinned inputs" in view.rows_title.text()
    # another layer: rows follow without a new forward pass
    w.state.select_layer("Conv2D_1")
    assert view.grid.maps.shape[1:] == (26, 26)
    # a dense layer: units as 1x1 tiles
    w.state.select_layer("Dense_1")
    assert view.grid.maps.shape == (4 * 70, 1, 1)
    assert view.grid.describe(70 + 5).startswith("input 2")
    view.pin_list.setCurrentRow(0)
    view.unpin_button.click()
    assert len(view.pins) == 3 and view.grid.maps.shape == (3 * 70, 1, 1)


def test_at_most_eight_pins(window):
    pin_samples(window, range(MAX_PINS))
    window.input_panel.browser.select(20)
    assert not window.compare_view.pin_current()
    assert "At most 8" in window.compare_view.rows_title.text()
    window.compare_view.clear_button.click()
    assert window.compare_view.pins == [] and window.compare_view.grid.maps is None


def test_class_statistics_heat_map_silent_maps_and_difference(window, qtbot):
    w, view = window, window.compare_view
    w.state.select_layer("Conv2D_3")
    view.stats_panel.per_class.setValue(20)
    progress = []
    original = view.stats_panel._on_stats_progress
    view.stats_panel._on_stats_progress = lambda f, t="", p=None: (progress.append(f), original(f, t, p))
    view.stats_panel.compute_stats()
    stats = view.stats_plot.stats
    assert len(progress) >= 1 and progress[-1] == pytest.approx(1.0)
    assert not view.stats_panel.progress.isVisible() and view.stats_panel.stats_button.isEnabled()
    assert stats is not None and stats.means.shape == (10, 128)
    assert stats.counts.tolist() == [20] * 10
    assert view.stats_plot.heat.image.shape == (10, 128)
    np.testing.assert_allclose(view.stats_plot.heat.image, stats.means)
    assert len(view.stats_plot.silent.data) == int(stats.silent.sum())
    assert "silent" in view.stats_panel.stats_note.text()
    assert view.stats_plot.readout.text().startswith("hover a cell")  # no longer asks to compute them
    # difference "4" vs "9" by default
    diff = view.stats_plot.difference
    assert (diff.a, diff.b) == (4, 9)
    np.testing.assert_allclose(
        view.stats_plot.bars.opts["height"], stats.means[4] - stats.means[9], atol=1e-6
    )
    best = class_difference(stats, 4, 9).order[0]
    assert str(int(best)) in view.stats_plot.diff_plot.titleLabel.text
    view.stats_panel.set_classes(1, 7)
    assert (view.stats_plot.difference.a, view.stats_plot.difference.b) == (1, 7)
    # clicking the heat map selects the map; the Layers tree follows
    qtbot.wait(20)  # let pending layouts settle before mapping data to screen positions
    vb = view.stats_plot.heat_plot.getViewBox()
    scene = vb.mapViewToScene(QPointF(17.5, 3.5))
    pos = view.stats_plot.glw.mapFromScene(scene)
    qtbot.mouseMove(view.stats_plot.glw.viewport(), pos)
    assert view.stats_plot.readout.text().startswith("class 3, map 17: mean")
    qtbot.mouseClick(view.stats_plot.glw.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert w.state.maps == [17] and w.state.layer == "Conv2D_3"
    assert [it.text(0) for it in w.layer_tree.selectedItems()] == ["map 17"]
    # another layer makes the statistics stale
    w.state.select_layer("Conv2D_2")
    assert view.stats_plot.stats is None


def test_class_statistics_cancelled_leaves_the_view_usable(new_window, default_model_path, qtbot):
    from cnnviz_gui.core.runtime.local import LocalCompute

    w = new_window(backend=LocalCompute())  # a worker thread: Cancel is pressed while it runs
    try:
        w.open_model_file(str(default_model_path))
        qtbot.waitUntil(lambda: w.state.dataset is not None and w.state.info is not None, timeout=60_000)
        view = w.compare_view
        w.state.select_layer("Conv2D_1")
        panel = view.stats_panel
        panel.per_class.setValue(0)  # all 10,000 digits: long enough to cancel
        panel.compute_stats()
        assert panel.cancel_button.isEnabled() and not panel.stats_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.stats_button.isEnabled(), timeout=5_000)
        assert view.stats_plot.stats is None and panel.stats_note.text() == "cancelled"
        assert not panel.cancel_button.isEnabled()
        panel.per_class.setValue(5)
        panel.compute_stats()
        qtbot.waitUntil(lambda: view.stats_plot.stats is not None, timeout=30_000)
        assert view.stats_plot.stats.means.shape == (10, 32)
    finally:
        w.close()


def test_compare_export_figure_and_arrays(window, tmp_path):
    w, view = window, window.compare_view
    assert w.export_active_view(str(tmp_path / "empty.png")) is None
    w.state.select_layer("Conv2D_3")
    pin_samples(w, [4, 6, 9])
    view.stats_panel.per_class.setValue(10)
    view.stats_panel.compute_stats()
    for ext, head in {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}.items():
        path = w.export_active_view(str(tmp_path / f"compare{ext}"))
        assert path is not None and path.read_bytes().startswith(head)
    fig = view.export_figure()
    assert len(fig.subfigs) == 2
    assert "3 pinned inputs" in fig.subfigs[0].get_suptitle()
    path = w.export_active_view(str(tmp_path / "compare.npz"))
    with np.load(path) as data:
        assert data["pinned_activations"].shape == (3, 3, 3, 128)
        assert data["stats_means"].shape == (10, 128)
        assert data["difference_classes"].tolist() == [4, 9]
        np.testing.assert_allclose(data["difference"], data["stats_means"][4] - data["stats_means"][9])
