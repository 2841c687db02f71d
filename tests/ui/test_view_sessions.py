"""The views join sessions and preferences: OIP settings and the Activations colours are saved in a session
file and restored in a new window; the default colour map preference reaches the Activations tab."""

from __future__ import annotations

import numpy as np

from cnnviz_gui.ui.oip_panel import OipPanel
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
    assert view.cmap_box.currentText() == "magma" and view.grid.cmap == "magma"
    assert not np.array_equal(_lut(view), before)

    view.cmap_box.setCurrentText("gray")
    view.cmap_box.activated.emit(view.cmap_box.currentIndex())  # as a person's pick does
    w.set_preferences(Preferences(colormap="plasma"))
    assert view.cmap == "gray"  # the person's choice in the view wins

    w2 = new_window()  # a new window starts with the stored preference
    assert w2.activation_view.cmap == "plasma"


def test_activation_colours_in_session(new_window, default_model_path, tmp_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    view = w.activation_view
    view.cmap_box.setCurrentText("jet")
    view.cmap_box.activated.emit(view.cmap_box.currentIndex())
    view.levels_box.setCurrentIndex(1)
    path = w.sessions.save(tmp_path / "acts")

    w2 = new_window()
    w2.set_preferences(Preferences(colormap="magma"))
    assert w2.sessions.open(path)
    v2 = w2.activation_view
    assert v2.cmap == "jet" and v2.per_map and v2.grid.cmap == "jet"
    w2.set_preferences(Preferences(colormap="inferno"))
    assert v2.cmap == "jet"
