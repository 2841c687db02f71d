"""The main window driven as a person would: open, refuse, consent, select, drop, export, close."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from cnnviz_gui.core.runtime.local import LocalCompute
from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.main_window import MainWindow
from cnnviz_gui.ui.model.layer_tree import MAP_ROLE
from cnnviz_gui.ui.state import AppState


@pytest.fixture
def window(qtbot):
    configure_pyqtgraph()
    w = MainWindow(AppState(), ComputeBridge(LocalCompute(synchronous=True)))
    w.messages = []
    w.consents = []
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text, details))
    w.consent_answer = False

    def ask(parent, err):
        w.consents.append(err)
        return w.consent_answer

    w.ask_consent = ask
    qtbot.addWidget(w)
    w.show()
    return w


def test_open_default_model_fills_tree_and_summary(window, default_model_path):
    window.open_model_file(str(default_model_path))
    assert window.state.info.name == "mnist_cnn"
    assert "mnist_cnn" in window.windowTitle()
    conv1 = window.layer_tree.layer_item("Conv2D_1")
    assert conv1.text(1) == "Conv2D" and conv1.text(2) == "26 x 26 x 32" and conv1.text(4) == "3x3"
    window.layer_tree.expandItem(conv1)  # map rows are made when a layer is opened
    maps = [conv1.child(i).text(0) for i in range(conv1.childCount())]
    assert maps[0] == "map 0" and maps[-1] == "map 31" and len(maps) == 32
    assert window.layer_tree.layer_item("Dense_1").text(4) == "whole input"
    assert window.model_panel.params_label.text() == "174,092"
    assert "Conv2D_3" in window.summary_view.text.toPlainText()
    assert window.recent_files()[0].endswith("mnist_cnn.keras")
    assert window.model_panel.recent_list.count() == 1


def test_recent_files_of_the_same_name_are_told_apart(window, default_model_path, tmp_path):
    import shutil

    paths = []
    for folder in ("run-a", "run-b"):
        (tmp_path / folder / "models").mkdir(parents=True)
        paths.append(tmp_path / folder / "models" / "mnist_cnn.keras")
        shutil.copy(default_model_path, paths[-1])
    for p in paths:
        window.open_model_file(str(p))
    shown = [window.model_panel.recent_list.item(i).text() for i in range(2)]
    assert shown == ["mnist_cnn.keras (run-b/…)", "mnist_cnn.keras (run-a/…)"]  # newest first
    assert window.model_panel.recent_list.item(1).toolTip() == str(paths[0].resolve())
    from cnnviz_gui.ui.menus import fill_recent_menu

    fill_recent_menu(window)
    assert [a.text() for a in window.recent_menu.actions()] == shown


def test_the_first_model_shows_its_maps_unless_the_person_chose_a_tab(window, default_model_path, qtbot):
    window.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: window.state.input_image is not None)
    assert window.tabs.currentWidget() is window.activation_view  # the maps of the first sample
    # a person who goes to another tab while the first model opens stays there
    w2 = MainWindow(AppState(), ComputeBridge(LocalCompute(synchronous=True)))
    qtbot.addWidget(w2)
    w2.show()
    w2.open_model_file(str(default_model_path))
    w2.tabs.setCurrentWidget(w2.oip_panel)
    qtbot.waitUntil(lambda: w2.state.input_image is not None)
    qtbot.wait(50)
    assert w2.tabs.currentWidget() is w2.oip_panel


def test_map_rows_are_not_cut_off_when_a_layer_opens(window, default_model_path):
    window.open_model_file(str(default_model_path))
    tree = window.layer_tree
    tree.layer_item("Conv2D_2").setExpanded(True)  # as a click on its arrow does
    assert tree.header().sectionSize(0) >= tree.sizeHintForColumn(0)  # "map 63" fits, not "map ..."


def test_tree_selection_and_state_follow_each_other(window, default_model_path, qtbot):
    window.open_model_file(str(default_model_path))
    conv2 = window.layer_tree.layer_item("Conv2D_2")
    window.layer_tree.expandItem(conv2)  # as a click on its arrow does
    window.layer_tree.setCurrentItem(conv2.child(5))  # as a click does
    assert window.state.layer == "Conv2D_2" and window.state.maps == [5]
    window.state.select_maps("Conv2D_3", [7, 9])
    selected = {(it.text(0)) for it in window.layer_tree.selectedItems()}
    assert selected == {"map 7", "map 9"}
    assert all(it.data(0, MAP_ROLE) in (7, 9) for it in window.layer_tree.selectedItems())


def test_refused_file_keeps_previous_model(window, default_model_path, bad_models):
    window.open_model_file(str(default_model_path))
    for key in ("truncated_keras", "text_h5", "weights_only", "savedmodel", "keras2", "empty"):
        window.open_model_file(str(bad_models[key]))
        title, text, _ = window.messages[-1]
        assert title == "Cannot open model" and "Traceback" not in text
        assert window.state.info.name == "mnist_cnn"
    assert len(window.messages) == 6
    assert "Keras 2.15.0" in window.messages[4][1]
    # a refused .keras shows what it contains, read without building it
    assert "Conv2D_3" in window.messages[4][2]


def test_unsafe_file_asks_every_time_and_runs_nothing_without_consent(window, default_model_path, bad_models):
    marker = bad_models["marker"]
    window.open_model_file(str(default_model_path))
    window.open_model_file(str(bad_models["lambda_keras"]))
    window.open_model_file(str(bad_models["lambda_keras"]))
    assert len(window.consents) == 2 and window.consents[0].unsafe_layers == ["payload_lambda"]
    assert window.messages[-1][1].endswith("nothing from it was run.")
    assert not marker.exists() and window.state.info.name == "mnist_cnn"
    window.consent_answer = True
    try:
        window.open_model_file(str(bad_models["lambda_keras"]))
        assert window.state.info.name == "lambda_model" and marker.exists()
    finally:
        marker.unlink(missing_ok=True)


def test_drop_a_file_opens_it(window, default_model_path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(default_model_path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert window.state.info is not None and window.state.info.name == "mnist_cnn"


def test_export_active_view(window, default_model_path, tmp_path):
    assert window.export_active_view(str(tmp_path / "early.png")) is None
    assert window.messages[-1][0] == "Nothing to export"
    window.open_model_file(str(default_model_path))
    path = window.export_active_view(str(tmp_path / "summary.pdf"))
    assert path is not None and path.read_bytes().startswith(b"%PDF")
    assert window.export_active_view(str(tmp_path / "nope" / "x.png")) is None
    assert window.messages[-1][0] == "Export failed" and "does not exist" in window.messages[-1][1]


def test_real_start_loads_tensorflow_in_the_compute_process(qtbot, default_model_path):
    configure_pyqtgraph()
    bridge = create_bridge(spare=False)
    w = MainWindow(AppState(), bridge)
    qtbot.addWidget(w)
    w.show()
    w.start()
    assert w.device_label.text() == "Device: loading TensorFlow…"  # the window is up before TF
    qtbot.waitUntil(lambda: w.state.loaded is not None and w.state.input_image is not None, timeout=60_000)
    qtbot.waitUntil(lambda: w.device != "", timeout=10_000)
    assert w.device_label.text() in ("Device: CPU",) or w.device_label.text().startswith("Device: GPU")
    assert w.state.input_image.shape == (28, 28, 1) and "sample #0" in w.state.input_label
    qtbot.waitUntil(lambda: w.job_label.text().startswith("Ready"), timeout=10_000)
    image = w.grab().toImage()
    assert image.width() > 800 and image.height() > 500
    process = bridge.backend.process
    assert process.is_alive() and process.pid != __import__("os").getpid()
    w.close()
    assert not process.is_alive()
