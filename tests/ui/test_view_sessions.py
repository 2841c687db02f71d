"""The views join sessions and preferences: OIP settings and the Activations colours are saved in a session
file and restored in a new window; the default colour map preference reaches the Activations tab."""

from __future__ import annotations

import numpy as np

from cnnviz_gui.ui.oip.panel import OipPanel
from cnnviz_gui.ui.settings import Preferences


def _oip(w) -> OipPanel:
    return next(w.tabs.widget(i) for i in range(w.tabs.count()) if isinstance(w.tabs.widget(i), OipPanel))


def test_oip_settings_round_trip_through_a_session_file(new_window, default_model_path, tmp_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    form = _oip(w).form
    form.preset_box.setCurrentIndex(form.preset_box.count() - 1)
    form.select_layer("Conv2D_2")
    form.maps_edit.setText("1-3,7")
    form.steps.setValue(123)
    form.eps.setValue(0.0375)
    form.seed.setValue(4242)
    form.restarts.setValue(3)
    form.precursor.setValue(5)
    form.redirect.setValue(17)
    form.stages.setText("10,20")
    form.init_box.setCurrentText("Fourier 1/f")
    form.factors.setText("0.25, 0.5, 0.75, 1")
    form.jitter.setValue(2)
    form.tv.setValue(0.125)
    form.optimizer.setCurrentText("adam")
    form.threshold.setText("3e-5")
    form.early_stop.setChecked(not form.early_stop.isChecked())
    form.data_check.setChecked(False)
    saved = form.session_state()
    path = w.sessions.save(tmp_path / "oip")
    assert '"seed": 4242' in path.read_text()

    w2 = new_window()
    assert w2.sessions.open(path)
    form2 = _oip(w2).form
    assert form2.session_state() == saved
    assert form2.layer == "Conv2D_2" and form2.maps_edit.text() == "1-3,7" and form2.seed.value() == 4242
    assert form2.settings() == form.settings()
    assert w2.messages == [] and w2.sessions.last_notes == []


def test_oip_restore_skips_bad_entries(new_window, default_model_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    form = _oip(w).form
    before = form.session_state()
    form.restore_session({"preset": "no such preset", "steps": "many", "optimizer": "sgd", "seed": 9})
    after = form.session_state()
    assert after["seed"] == 9 and {k: v for k, v in after.items() if k != "seed"} == {
        k: v for k, v in before.items() if k != "seed"
    }


def _lut(view) -> np.ndarray:
    return np.array(view.grid.image.lut, copy=True)


def test_default_colormap_preference_reaches_activations_unless_chosen(new_window, default_model_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    view = w.activation_view
    assert view.cmap == "viridis"
    before = _lut(view)
    w.set_preferences(Preferences(colormap="magma"))
    assert view.colours.box.currentText() == "magma" and view.grid.cmap == "magma"
    assert not np.array_equal(_lut(view), before)

    view.colours.box.setCurrentText("gray")
    view.colours.box.activated.emit(view.colours.box.currentIndex())  # as a person's pick does
    w.set_preferences(Preferences(colormap="plasma"))
    assert view.cmap == "gray"  # the person's choice in the view wins

    w2 = new_window()  # a new window starts with the stored preference
    assert w2.activation_view.cmap == "plasma"


def test_activation_colours_in_session(new_window, default_model_path, tmp_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    view = w.activation_view
    view.colours.box.setCurrentText("jet")
    view.colours.box.activated.emit(view.colours.box.currentIndex())
    view.levels_box.setCurrentIndex(1)
    path = w.sessions.save(tmp_path / "acts")

    w2 = new_window()
    w2.set_preferences(Preferences(colormap="magma"))
    assert w2.sessions.open(path)
    v2 = w2.activation_view
    assert v2.cmap == "jet" and v2.per_map and v2.grid.cmap == "jet"
    w2.set_preferences(Preferences(colormap="inferno"))
    assert v2.cmap == "jet"


def test_compare_colours_classes_and_preference(new_window, default_model_path, tmp_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    w._set_default_input()
    view = w.compare_view
    panel = view.stats_panel
    assert panel.class_a.count() >= 10  # the Input pane's dataset names the classes
    lut = np.array(view.grid.image.lut, copy=True)
    w.set_preferences(Preferences(colormap="magma"))
    assert view.cmap == "magma" and view.grid.cmap == "magma"
    assert not np.array_equal(view.grid.image.lut, lut)
    panel.set_classes(2, 7)
    panel.per_class.setValue(50)
    view.colours.box.setCurrentText("gray")
    view.colours.box.activated.emit(view.colours.box.currentIndex())
    path = w.sessions.save(tmp_path / "compare")

    w2 = new_window()
    assert w2.sessions.open(path)
    v2 = w2.compare_view
    assert v2.stats_panel.class_a.count() == 0  # the session's input came without a dataset
    w2.input_panel.select_sample(3)  # the dataset arrives later: the session's pair is applied then
    assert v2.stats_panel.classes() == (2, 7) and v2.stats_panel.per_class.value() == 50
    assert v2.cmap == "gray" and v2.grid.cmap == "gray"
    w2.set_preferences(Preferences(colormap="inferno"))
    assert v2.cmap == "gray"


def test_latent_settings_in_session(new_window, tmp_path):
    from cnnviz_gui.core.latent.space import bundled_autoencoder_path

    w = new_window()
    w.open_model_file(str(bundled_autoencoder_path("vae")))
    lp = w.latent_panel
    k = lp.controls
    k.dataset_box.setCurrentIndex(k.dataset_box.count() - 1)
    k.points_box.setCurrentIndex(1)
    k.hover_box.setChecked(False)
    lp.grid_n.setValue(7)
    lp.steps.setValue(13)
    lp.n_samples.setValue(450)
    saved = lp.session_state()
    path = w.sessions.save(tmp_path / "latent")

    w2 = new_window()
    assert w2.sessions.open(path)
    assert w2.state.info.name == w.state.info.name
    assert w2.latent_panel.session_state() == saved
    assert w2.latent_panel.grid_n.value() == 7 and not w2.latent_panel.controls.hover_box.isChecked()


def test_latent_projection_and_axes_wait_for_the_models_projections(qtbot):
    from cnnviz_gui.ui.latent.controls import ExploreControls

    k = ExploreControls(["MNIST"], ("scatter",))
    qtbot.addWidget(k)
    k.restore_session({"projection": "pca", "axes": [2, 4]})
    assert k.projection_method() == "axes"  # a 2-D model offers no PCA: kept for later
    k.set_projections(["axes", "pca"], 6)
    assert k.projection_method() == "pca" and k.axes() == (2, 4)
    k.set_projections(["axes", "pca"], 6)  # applied once: a later model gets its defaults
    assert k.axes() == (0, 1)


def test_input_page_and_brush_in_session_keep_the_sessions_input(new_window, default_model_path, tmp_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    w.input_panel.select_sample(11)
    label = w.state.input_label
    w.input_panel.draw.brush_spin.setValue(30)
    w.input_panel.tabs.setCurrentWidget(w.input_panel.draw)
    path = w.sessions.save(tmp_path / "input")

    w2 = new_window()
    assert w2.sessions.open(path)
    panel = w2.input_panel
    assert panel.tabs.currentWidget() is panel.draw
    assert panel.draw.brush_spin.value() == 30 and panel.draw.canvas.brush == 30
    assert w2.state.input_label == label  # showing the empty canvas did not replace the input


def test_oip_colours_follow_the_preference_until_chosen_and_join_the_session(
    new_window, default_model_path, tmp_path
):
    from cnnviz_gui.ui.widgets.map_grid import lookup_table

    w = new_window()
    w.open_model_file(str(default_model_path))
    panel = _oip(w)
    panel.form.select_layer("Conv2D_1")
    panel.form.maps_edit.setText("0-3")
    panel.form.steps.setValue(5)
    panel.form.data_check.setChecked(False)
    panel.start()
    tables = (panel.live.image, panel.live.strip)
    assert all(np.array_equal(item.lut, lookup_table("viridis")) for item in tables)
    assert panel.atlas.cmap == "viridis"
    w.set_preferences(Preferences(colormap="magma"))
    assert panel.colours.name == "magma"
    assert all(np.array_equal(item.lut, lookup_table("magma")) for item in tables)
    atlas = panel.atlas.grab().toImage()  # the tiles are coloured with magma's table
    px = {
        atlas.pixelColor(x, y).getRgb()[:3]
        for x in range(0, atlas.width(), 3)
        for y in range(0, atlas.height(), 3)
    }
    magma = {tuple(int(v) for v in c[:3]) for c in lookup_table("magma")}
    viridis = {tuple(int(v) for v in c[:3]) for c in lookup_table("viridis")}
    assert len(px & magma) > 20 and len(px & (viridis - magma)) < 3

    panel.colours.box.setCurrentText("gray")
    panel.colours.box.activated.emit(panel.colours.box.currentIndex())  # as a person's pick does
    w.set_preferences(Preferences(colormap="plasma"))
    assert panel.colours.name == "gray" and panel.atlas.cmap == "gray"
    tile = panel.atlas.cell_pixels(0)
    assert (tile[..., 0] == tile[..., 1]).all() and (tile[..., 1] == tile[..., 2]).all()  # grey pixels
    path = w.sessions.save(tmp_path / "oip_colours")

    w2 = new_window()
    assert _oip(w2).colours.name == "plasma"  # a new window starts with the stored preference
    assert w2.sessions.open(path)
    p2 = _oip(w2)
    assert p2.colours.name == "gray" and np.array_equal(p2.live.image.lut, lookup_table("gray"))
    w2.set_preferences(Preferences(colormap="inferno"))
    assert p2.colours.name == "gray"
