"""Sessions in the window: save/reopen restores model, layer, maps, input and views; last session on close;
corrupted session and settings files are set aside with a message; preferences persist."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from cnnviz_gui.core.datasets import load_bundled_mnist
from cnnviz_gui.core.session import last_session_path
from cnnviz_gui.ui.settings import Preferences, open_settings


class KnobView(QWidget):
    """A view that joins sessions the way the OIP/latent/activation tabs can."""

    title = "Knobs"

    def __init__(self):
        super().__init__()
        self.knobs = {"seed": 0, "steps": 600}

    def session_state(self) -> dict:
        return dict(self.knobs)

    def restore_session(self, state: dict) -> None:
        self.knobs = dict(state)

    def export_figure(self):
        return None

    def export_arrays(self):
        return None


def test_session_round_trip_restores_model_layer_maps_input_and_views(
    new_window, default_model_path, tmp_path
):
    w = new_window()
    knobs = KnobView()
    w.add_view(knobs)
    w.open_model_file(str(default_model_path))
    digit = load_bundled_mnist().x[7]
    w.state.set_input(digit, "MNIST sample #7")
    w.state.set_convention("0..1")
    w.state.select_maps("Conv2D_2", [3, 5])
    knobs.knobs = {"seed": 42, "steps": 200}
    w.tabs.setCurrentWidget(knobs)
    path = w.sessions.save(tmp_path / "figure3")
    assert path.name == "figure3.cnnviz.json" and path.is_file()
    assert "Session saved" in w.statusBar().currentMessage()
    assert w.sessions.recent()[0] == str(path.resolve())

    w2 = new_window()
    knobs2 = KnobView()
    w2.add_view(knobs2)
    assert w2.sessions.open(path)
    assert w2.state.info is not None and w2.state.info.name == "mnist_cnn"
    assert w2.state.layer == "Conv2D_2" and w2.state.maps == [3, 5]
    assert w2.state.convention == "0..1" and w2.state.input_label == "MNIST sample #7"
    np.testing.assert_array_equal(w2.state.input_image, digit)
    assert knobs2.knobs == {"seed": 42, "steps": 200}
    assert w2.tabs.currentWidget() is knobs2
    selected = {it.text(0) for it in w2.layer_tree.selectedItems()}
    assert selected == {"map 3", "map 5"}
    assert w2.messages == [] and w2.sessions.last_notes == []


def test_restore_says_what_it_could_not_apply(new_window, default_model_path, tmp_path):
    w = new_window()
    w.add_view(KnobView())
    w.open_model_file(str(default_model_path))
    w.state.select_maps("Conv2D_3", [1])
    session = w.sessions.collect()
    session.model_path = str(tmp_path / "moved_away.keras")
    session.layer = "Conv2D_9"
    session.views["Retired"] = {"x": 1}
    w2 = new_window()
    w2.sessions.apply(session, "old.cnnviz.json")
    assert w2.state.info.name == "mnist_cnn"  # the default model stands in
    title, text, _ = w2.messages[-1]
    assert title == "Session restored in part"
    assert "moved_away.keras no longer exists" in text and "no layer 'Conv2D_9'" in text
    assert "no 'Retired' view" in text and "Knobs" in text


def test_corrupted_session_file_is_set_aside_with_a_message(new_window, default_model_path, tmp_path):
    w = new_window()
    w.open_model_file(str(default_model_path))
    bad = tmp_path / "bad.cnnviz.json"
    bad.write_text('{"format": "cnnviz-session", "version": 1, "selection": ')
    assert not w.sessions.open(bad)
    title, text, _ = w.messages[-1]
    assert title == "Cannot open session" and "not valid JSON" in text and ".corrupt-" in text
    assert not bad.exists() and len(list(tmp_path.glob("bad.cnnviz.json.corrupt-*"))) == 1
    assert w.state.info.name == "mnist_cnn"  # the app goes on with what it had


def test_last_session_saved_on_close_and_restored_at_start(new_window, default_model_path):
    w = new_window()
    w.start()
    w.state.select_maps("Conv2D_3", [7])
    w.close()
    assert last_session_path().is_file()

    w2 = new_window()
    w2.start()  # preference "restore" (the default)
    assert w2.state.layer == "Conv2D_3" and w2.state.maps == [7]

    w2.set_preferences(Preferences(restore_session="ask"))
    w2.close()
    w3 = new_window(answer=False)
    w3.start()
    assert w3.questions == ["Restore last session?"] and (w3.state.layer, w3.state.maps) != ("Conv2D_3", [7])
    assert w3.state.info.name == "mnist_cnn"


def test_corrupted_last_session_starts_with_defaults(new_window):
    path = last_session_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00\x01garbage")
    w = new_window()
    w.start()
    assert w.messages[-1][0] == "Cannot open session" and "Defaults are used" in w.messages[-1][1]
    assert not path.exists() and list(path.parent.glob("last-session.cnnviz.json.corrupt-*"))
    assert w.state.info is not None and w.state.info.name == "mnist_cnn"


def test_corrupted_settings_file_is_set_aside_and_defaults_used(new_window):
    settings, problem = open_settings()
    settings.setValue("preferences/colormap", "magma")
    settings.sync()
    path = settings.fileName()
    del settings
    with open(path, "wb") as fh:
        fh.write(b"[preferences\x00\xff\xfe colormap=jet\n")
    settings, problem = open_settings()
    assert problem is not None and "damaged" in problem and ".corrupt-" in problem
    assert Preferences.load(settings) == Preferences()
    w = new_window()
    w.start()
    assert w.settings_problem is None  # the damaged file is gone; this start was clean
    assert w.state.info.name == "mnist_cnn"


def test_settings_problem_is_shown_at_start(new_window, qtbot):
    settings, _ = open_settings()
    settings.setValue("x", 1)
    settings.sync()
    path = settings.fileName()
    del settings
    with open(path, "w") as fh:
        fh.write("[General\nrecent_files=1\n")  # a header Qt cannot parse
    w = new_window()
    assert w.settings_problem is not None
    w.start()
    assert ("Settings reset", w.settings_problem, "") in w.messages


def test_preferences_persist_and_bad_values_fall_back(new_window):
    w = new_window()
    prefs = Preferences(colormap="magma", device="cpu", threads=2, theme="dark", restore_session="never",
                        spare_process=False)  # fmt: skip
    w.set_preferences(prefs)
    again = Preferences.load(QSettings("cnnviz", "cnnviz"))
    assert again == prefs
    s = QSettings("cnnviz", "cnnviz")
    s.setValue("preferences/threads", "many")
    s.setValue("preferences/colormap", "rainbow-unicorn")
    s.sync()
    loaded = Preferences.load(QSettings("cnnviz", "cnnviz"))
    assert loaded.threads == 0 and loaded.colormap == "viridis" and loaded.device == "cpu"
    w.set_preferences(Preferences(theme="system"))


def test_preferences_dialog_edits_and_dark_theme_applies(new_window, qtbot):
    from PySide6.QtWidgets import QApplication

    w = new_window()
    dialog = w.preferences_dialog()
    assert dialog.colormap_box.currentText() == "viridis" and dialog.threads_spin.text() == "automatic"
    dialog.colormap_box.setCurrentText("jet")
    dialog.theme_box.setCurrentIndex(dialog.theme_box.findData("dark"))
    dialog.threads_spin.setValue(1)
    assert dialog.needs_restart()
    dialog.accept()
    assert w.preferences.colormap == "jet" and w.preferences.threads == 1
    assert "restart the compute process" in dialog.restart_note.text()
    assert "the compute process was restarted" in w.statusBar().currentMessage()
    assert w.bridge.restart_count == 1
    assert QApplication.instance().palette().window().color().lightness() < 100
    w.set_preferences(Preferences())
    assert QApplication.instance().palette().window().color().lightness() > 150


def test_refused_session_model_falls_back_to_the_default(new_window, default_model_path, bad_models):
    w = new_window()
    w.ask_consent = lambda parent, err: False  # the person declines to run the file's code
    w.open_model_file(str(default_model_path))
    session = w.sessions.collect()
    session.model_path = str(bad_models["lambda_keras"])
    bad_models["marker"].unlink(missing_ok=True)  # another test may have run the payload with consent
    w2 = new_window()
    w2.ask_consent = lambda parent, err: False
    w2.sessions.apply(session, "unsafe.cnnviz.json")
    assert w2.messages[0][0] == "Model not opened" and not bad_models["marker"].exists()
    assert w2.state.info is not None and w2.state.info.name == "mnist_cnn"


def test_start_with_a_session_file_and_drop_one(new_window, default_model_path, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    w = new_window()
    w.open_model_file(str(default_model_path))
    w.state.select_maps("Conv2D_3", [120])
    path = w.sessions.save(tmp_path / "map120")
    w.close()  # one window at a time, as in the app
    w2 = new_window()
    w2.start(str(path))  # cnnviz map120.cnnviz.json
    assert w2.state.layer == "Conv2D_3" and w2.state.maps == [120]
    w2.state.select_layer("Conv2D_1")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    w2.dropEvent(drop)
    assert w2.state.layer == "Conv2D_3" and w2.state.maps == [120]
