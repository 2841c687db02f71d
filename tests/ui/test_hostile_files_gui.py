"""Every file of the hostile/broken corpus opened in the real window: a message, the previous model kept,
nothing from the file run without consent, consent asked each time and valid for that one file only."""

from __future__ import annotations

import pytest
from hostile_corpus import OPENS, REFUSED

from cnnviz_gui.core.runtime.local import LocalCompute
from cnnviz_gui.ui.app import configure_pyqtgraph
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.main_window import MainWindow
from cnnviz_gui.ui.state import AppState


@pytest.fixture
def recording_window(qapp, default_model_path):
    """A window whose compute runs here synchronously; messages and consents are recorded."""
    configure_pyqtgraph()
    w = MainWindow(AppState(), ComputeBridge(LocalCompute(synchronous=True)))
    w.messages, w.consents, w.consent_answer = [], [], False
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text, details))

    def ask(parent, err):
        w.consents.append(err)
        return w.consent_answer

    w.ask_consent = ask
    w.show()
    w.open_model_file(str(default_model_path))
    yield w
    w.close()
    w.deleteLater()


@pytest.fixture
def window(recording_window, default_model_path):
    w = recording_window
    if w.state.info is None or w.state.info.name != "mnist_cnn":
        w.open_model_file(str(default_model_path))
    w.messages.clear()
    w.consents.clear()
    w.consent_answer = False
    return w


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_gui_refuses_with_a_message_and_keeps_the_model(key, window, bad_models):
    before = window.state.loaded
    window.open_model_file(str(bad_models[key]))
    kind, words = REFUSED[key]
    if kind == "unsafe":
        assert len(window.consents) == 1 and window.consents[0].needs_consent
        assert window.messages[-1][0] == "Model not opened"
        assert "nothing from it was run" in window.messages[-1][1]
    else:
        assert window.consents == []
        title, text, _details = window.messages[-1]
        assert title == "Cannot open model"
        for w in words:
            assert w in text
    assert len(window.messages) == 1
    assert "Traceback" not in window.messages[-1][1]
    assert window.state.loaded is before and window.state.info.name == "mnist_cnn"
    assert "mnist_cnn" in window.windowTitle()
    assert window.statusBar().currentMessage()  # the first line is repeated in the status bar
    assert not bad_models["marker"].exists(), "code from a model file ran without consent"


@pytest.mark.parametrize("key", sorted(OPENS))
def test_gui_opens_unusual_models_and_says_what_is_off(key, window, bad_models):
    window.open_model_file(str(bad_models[key]))
    name, note = OPENS[key]
    assert window.messages == []
    assert window.state.info.name == name
    assert window.model_panel.note_label.text() == window.state.info.input_note
    if note:
        assert note in window.model_panel.note_label.text()
    assert window.layer_tree.topLevelItemCount() == len(window.state.info.layers)


def test_gui_asks_twice_for_the_same_file_and_consent_opens_only_that_file(window, bad_models):
    marker = bad_models["marker"]
    for _ in range(2):
        window.open_model_file(str(bad_models["lambda_h5"]))
    assert len(window.consents) == 2, "opening the same hostile file twice asks twice"
    assert not marker.exists() and window.state.info.name == "mnist_cnn"

    window.consent_answer = True
    try:
        window.open_model_file(str(bad_models["lambda_h5"]))
        assert window.state.info.name == "lambda_model" and marker.exists()
    finally:
        marker.unlink(missing_ok=True)
    # consent covered that load only: another Lambda file, and the same one again, are refused again
    window.consent_answer = False
    window.open_model_file(str(bad_models["nested_lambda"]))
    window.open_model_file(str(bad_models["lambda_h5"]))
    assert len(window.consents) == 5
    assert window.state.info.name == "lambda_model" and not marker.exists()
