"""The Latent tab's Traversal page and sliders (synchronous compute): the bundled VAE, a tiny 8-D VAE trained
for one epoch, a 40-D VAE (32 sliders at most), the prior-fit figures of the statistics, exports."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core.latent.space import bundled_autoencoder_path
from cnnviz_gui.core.runtime.local import LocalCompute

VAE = bundled_autoencoder_path("vae")


def _open(view, path=VAE) -> None:
    from conftest import open_model_in

    open_model_in(view.bridge, view.state, path)


def _decoder(path):
    from cnnviz_gui.core.models.loading import open_model

    return open_model(path).model.get_layer("decoder")


@pytest.fixture
def panel(qtbot):
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.latent.panel import LatentPanel
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    bridge = ComputeBridge(LocalCompute(synchronous=True))
    view = LatentPanel(AppState(), bridge)
    qtbot.addWidget(view)
    view.resize(1200, 850)
    view.show()
    qtbot.waitExposed(view)
    yield view
    bridge.shutdown()


def test_bundled_vae_traversal_sliders_and_prior_fit(panel):
    _open(panel)
    panel.views.setCurrentWidget(panel.traversal_tab)
    assert panel.controls.export_box.currentText() == "traversal"
    assert not panel.right.isVisible()  # the page shows its own large image
    tr = panel.traversal
    assert tr.traversal.shape == (2, 9, 28, 28) and sorted(tr.dims.tolist()) == [0, 1]
    assert tr.change[0] >= tr.change[1] > 0.02  # both dimensions of the bundled VAE carry information
    np.testing.assert_allclose(tr.centre, panel.z.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(tr.offsets, np.linspace(-3, 3, 9), atol=1e-6)
    plot = panel.traversal_plot
    assert plot.mosaic.shape == (2 * 30 - 2, 9 * 30 - 2)  # tiles 28 px, 2 px apart
    assert plot.row_labels == [f"z{int(k)}  {c:.3f}" for k, c in zip(tr.dims, tr.change, strict=True)]
    assert plot.column_labels == ["-3", "-2.25", "-1.5", "-0.75", "0", "+0.75", "+1.5", "+2.25", "+3"]
    assert "around the data's mean" in panel.traversal_tab.message.text()
    # the sliders start at the centre, most influential dimension first, and show the centre decoded
    sliders = panel.sliders
    assert [k for k, _, _ in sliders.rows] == tr.dims.tolist()
    assert all(offset == 0 for offset in sliders.offsets().values())
    decoder = _decoder(VAE)
    centre_image = np.asarray(decoder(tr.centre[None]))[0, ..., 0]
    np.testing.assert_allclose(panel.view.slider_image, centre_image, atol=1e-5)
    assert panel.slider_tile.array.shape == (28, 28)
    # a slider moves its coordinate only, by offset x that dimension's SD; the decoded image follows
    k = int(tr.dims[1])
    sliders.set_offset(k, 1.5)
    z = panel.view.slider_z
    expected = tr.centre.copy()
    expected[k] += 1.5 * tr.sd[k]
    np.testing.assert_allclose(z, expected, atol=1e-5)
    assert np.flatnonzero(z != tr.centre).tolist() == [k]
    np.testing.assert_allclose(panel.view.slider_image, np.asarray(decoder(z[None]))[0, ..., 0], atol=1e-5)
    assert np.abs(panel.view.slider_image - centre_image).mean() > 0.02
    assert panel.slider_label.text() == f"the centre with z{k} +1.50 SD" and panel.last_slider_ms is not None
    value_label = next(label for dim, _, label in sliders.rows if dim == k)
    assert value_label.text() == "+1.50 SD"
    # the same slider at +3 SD matches the last column of its traversal row
    sliders.set_offset(k, 3.0)
    row = tr.dims.tolist().index(k)
    np.testing.assert_allclose(panel.view.slider_image, tr.traversal[row, -1], atol=1e-5)
    sliders.reset_button.click()
    np.testing.assert_allclose(panel.view.slider_z, tr.centre)
    np.testing.assert_allclose(panel.view.slider_image, centre_image, atol=1e-5)
    assert panel.slider_label.text() == "the centre"
    # steps and range: a new traversal, sliders from -R to +R
    panel.traversal_tab.steps.setValue(5)
    panel.traversal_tab.range_sd.setValue(2.0)
    assert panel.traversal.traversal.shape == (2, 5, 28, 28)
    np.testing.assert_allclose(panel.traversal.offsets, [-2, -1, 0, 1, 2])
    sliders.set_offset(k, 5.0)  # clipped to +R
    assert sliders.offsets()[k] == pytest.approx(2.0)
    assert {(s.minimum(), s.maximum()) for _, s, _ in sliders.rows} == {(-200, 200)}  # steps of 0.01 SD
    # the statistics say how the VAE sits on its prior, and that it converged (resources/models/README.md)
    text = panel.stats_text.toPlainText()
    fit = panel.dataset.prior
    assert fit.n_prior == 2000 and fit.centred and fit.covers_prior and fit.r99 < 4.5
    assert text.startswith(
        "Verdict: centred on the prior (|centre| <= 0.25 per axis) and 89% of prior samples"
    )
    assert "\nOn the prior N(0, I), 2,000 samples:\n  centre (-0.00, +0.01)\n" in text
    assert (
        f"r99 = {fit.r99:.2f}" in text and f"on the data: {fit.on_data_share * 100:.0f}% of the prior" in text
    )
    assert text.index("Verdict") < text.index("class centroids")


def test_the_ae_statistics_are_the_contrast(panel):
    """The bundled AE against the prior: off-centre, wide, fewer prior samples on its data (the models README:
    centre (-2.77, +1.97), r99 15.28, 55%); the verdict says an AE has no prior to converge to."""
    _open(panel, bundled_autoencoder_path("ae"))
    fit = panel.dataset.prior
    assert fit.posterior_variance is None and not fit.centred and fit.r99 > 10 and fit.on_data_share < 0.75
    text = panel.stats_text.toPlainText()
    assert f"centre ({fit.centre[0]:+.2f}, {fit.centre[1]:+.2f})" in text and f"r99 = {fit.r99:.2f}" in text
    assert "Verdict: a plain autoencoder has no prior" in text and "posterior variances" not in text
    assert panel.traversal.traversal.shape == (2, 9, 28, 28)  # an AE has a traversal as well


def test_another_model_clears_the_previous_results(panel):
    _open(panel)
    panel.n_samples.setValue(8)
    panel.generate()
    panel.decode_grid()
    panel.set_endpoint("A", panel._sample_z(0))
    panel.set_endpoint("B", panel._sample_z(1))
    panel.interpolate()
    assert panel.gen_view.columns and panel.manifold.mosaic is not None and panel.strip.array is not None
    vae_traversal = panel.traversal
    _open(panel, bundled_autoencoder_path("ae"))  # nothing of the VAE is left to be read as the AE's
    assert panel.gen_view.columns == [] and panel.gen_summary.text() == ""
    assert panel.manifold.mosaic is None and panel.strip.array is None
    assert panel.traversal is not vae_traversal and panel.generation is None


def test_pinned_centre(panel):
    _open(panel)
    tab = panel.traversal_tab
    tab.centre_box.setCurrentIndex(tab.centre_box.findData("pinned"))
    assert "Click the scatter to pin a point" in tab.message.text()
    before = panel.traversal
    panel.scatter.clicked.emit(0.5, -1.0)  # pins, and the traversal moves around the pinned point
    assert panel.traversal is not before
    np.testing.assert_allclose(panel.traversal.centre, [0.5, -1.0], atol=1e-5)
    np.testing.assert_allclose(panel.view.slider_z, [0.5, -1.0], atol=1e-5)
    assert "around the pinned point" in tab.message.text()
    tab.centre_box.setCurrentIndex(tab.centre_box.findData("mean"))
    np.testing.assert_allclose(panel.traversal.centre, panel.z.mean(axis=0), atol=1e-5)


def test_tiny_8d_vae_rows_and_sliders(panel, tiny_vae8):
    path, z_fixture, kl = tiny_vae8
    _open(panel, path)
    assert panel.z.shape == (10000, 8)
    tr = panel.traversal
    assert tr.traversal.shape == (8, 9, 28, 28) and sorted(tr.dims.tolist()) == list(range(8))
    assert np.all(np.diff(tr.change) <= 0)
    informative, collapsed = np.flatnonzero(kl > 0.3), np.flatnonzero(kl < 0.08)
    assert len(informative) >= 2 and len(collapsed) >= 1, kl
    assert set(tr.dims[: len(informative)].tolist()) == set(informative.tolist())
    assert len(panel.traversal_plot.row_labels) == 8
    assert panel.traversal_plot.row_labels[0].startswith(f"z{int(tr.dims[0])}  ")
    sliders = panel.sliders
    assert len(sliders.rows) == 8 and "8 dimensions, most influential first" in sliders.note.text()
    centre_image = panel.view.slider_image.copy()
    decoder = _decoder(path)
    changes = {}
    for k in (int(informative[0]), int(collapsed[0])):
        sliders.reset()
        sliders.set_offset(k, 2.5)
        z = panel.view.slider_z
        assert np.flatnonzero(~np.isclose(z, tr.centre)).tolist() == [k]
        np.testing.assert_allclose(
            panel.view.slider_image, np.asarray(decoder(z[None]))[0, ..., 0], atol=1e-5
        )
        changes[k] = float(np.abs(panel.view.slider_image - centre_image).mean())
    informative_change, collapsed_change = changes[int(informative[0])], changes[int(collapsed[0])]
    assert informative_change > 0.02 and informative_change > 5 * collapsed_change, changes


def test_at_most_32_sliders_the_most_influential(panel, tmp_path):
    from cnnviz_gui.core.training.autoencoders import build_autoencoder

    path = tmp_path / "vae40.keras"
    build_autoencoder("vae", latent_dim=40, name="vae40").save(path)
    _open(panel, path)
    tr = panel.traversal
    assert tr.traversal.shape == (40, 9, 28, 28)
    assert len(panel.traversal_plot.row_labels) == 40
    sliders = panel.sliders
    assert len(sliders.rows) == 32
    assert [k for k, _, _ in sliders.rows] == tr.dims[:32].tolist()
    assert "32 of 40 dimensions: the 32 that change the image most" in sliders.note.text()
    k = int(tr.dims[0])
    sliders.set_offset(k, -1.0)
    assert np.flatnonzero(~np.isclose(panel.view.slider_z, tr.centre)).tolist() == [k]


def test_traversal_exports_figure_and_npz(qtbot, tmp_path):
    from cnnviz_gui.ui.app import create_main_window

    window = create_main_window(LocalCompute(synchronous=True))
    qtbot.addWidget(window)
    try:
        _open(window)
        panel = window.latent_panel
        window.tabs.setCurrentWidget(panel)
        panel.views.setCurrentWidget(panel.traversal_tab)
        panel.sliders.set_offset(int(panel.traversal.dims[0]), 1.0)
        assert panel.controls.export_box.currentText() == "traversal"
        png = window.export_active_view(str(tmp_path / "traversal.png"))
        assert png is not None and png.stat().st_size > 10000
        svg = window.export_active_view(str(tmp_path / "traversal.svg"))
        text = svg.read_text()
        assert "z0" in text and "z1" in text and "around the data mean" in text
        npz = window.export_active_view(str(tmp_path / "latent.npz"))
        tr = panel.traversal
        with np.load(npz) as data:  # the keys of cnnviz latent --traverse --npz, and the sliders' point
            assert {"traversal", "dims", "offsets", "change", "centre", "sd", "slider_z", "z"} <= set(
                data.files
            )
            assert data["traversal"].shape == (2, 9, 28, 28)
            np.testing.assert_array_equal(data["dims"], tr.dims)
            np.testing.assert_allclose(data["slider_z"], panel.view.slider_z)
    finally:
        window.bridge.shutdown()


def test_without_a_traversal_there_is_nothing_to_export_and_a_message(panel, default_model_path):
    _open(panel, default_model_path)  # a classifier: no latent space
    assert panel.traversal is None and panel.export_figure("traversal") is None
    panel.traversal_tab.button.click()
    assert "Encode a dataset first" in panel.traversal_tab.message.text()
    assert panel.sliders.rows == [] and not panel.sliders.reset_button.isEnabled()


def test_a_drag_faster_than_the_decodes_ends_on_its_last_position(qtbot):
    """Decodes on the compute thread (not synchronous): many slider moves at once send at most one decode at a
    time; the image shown at the end is the last position's, also when a new traversal came meanwhile."""
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.latent.panel import LatentPanel
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    compute = LocalCompute()
    bridge = ComputeBridge(compute)
    view = LatentPanel(AppState(), bridge)
    qtbot.addWidget(view)
    sent = []
    request = bridge.request
    bridge.request = lambda op, params=None, **kw: (sent.append(op), request(op, params, **kw))[1]
    try:
        _open(view)
        qtbot.waitUntil(lambda: view.view.slider_image is not None and not bridge.busy, timeout=60_000)
        decoder = _decoder(VAE)
        k = int(view.traversal.dims[0])
        sent.clear()
        for offset in np.linspace(-2.5, 2.5, 40):  # 40 moves without the event loop running in between
            view.sliders.set_offset(k, float(offset))
        assert sent.count("latent.decode_point") == 1  # one in flight; the newest waits
        view.traversal_tab.range_sd.setValue(2.0)  # a new traversal while a slider decode is in flight
        qtbot.waitUntil(lambda: not bridge.busy and view.traversal.range_sd == 2.0, timeout=30_000)
        tr = view.traversal  # its sliders start at its centre: the decode of the old position is not shown
        np.testing.assert_allclose(view.view.slider_z, tr.centre)
        np.testing.assert_allclose(
            view.view.slider_image, np.asarray(decoder(tr.centre[None]))[0, ..., 0], atol=1e-5
        )
        for offset in np.linspace(0, -1.0, 30):
            view.sliders.set_offset(k, float(offset))
        qtbot.waitUntil(lambda: not bridge.busy, timeout=30_000)
        z = view.view.slider_z
        expected = tr.centre.copy()
        expected[k] -= 1.0 * tr.sd[k]
        np.testing.assert_allclose(z, expected, atol=1e-5)
        np.testing.assert_allclose(view.view.slider_image, np.asarray(decoder(z[None]))[0, ..., 0], atol=1e-5)
        assert view.slider_label.text() == f"the centre with z{k} -1.00 SD"
        assert sent.count("latent.decode_point") < 10
    finally:
        bridge.shutdown()
    assert not compute.alive


def test_session_keeps_the_traversal_settings(panel):
    state = panel.session_state()
    assert state["traversal_centre"] == "mean" and state["traversal_steps"] == 9
    assert state["traversal_range"] == 3.0
    panel.restore_session({"traversal_centre": "pinned", "traversal_steps": 5, "traversal_range": 2.5})
    assert panel.traversal_tab.centre_choice() == "pinned"
    assert (panel.traversal_tab.steps.value(), panel.traversal_tab.range_sd.value()) == (5, 2.5)
    panel.restore_session(
        {"traversal_centre": "elsewhere", "traversal_steps": "many", "traversal_range": True}
    )
    assert panel.session_state()["traversal_centre"] == "pinned"  # nonsense is ignored
    assert panel.session_state()["traversal_steps"] == 5 and panel.session_state()["traversal_range"] == 2.5
