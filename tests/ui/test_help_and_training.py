"""Help menu (shortcuts, user guide, About) and the training dialog (1 epoch, Stop keeps the old file)."""

from __future__ import annotations

import re
from pathlib import Path

from cnnviz_gui.core.runtime.local import LocalCompute
from cnnviz_gui.ui.help_dialogs import menu_actions


def test_standard_shortcuts_are_listed(new_window):
    w = new_window()
    dialog = w.shortcuts_dialog()
    assert dialog.isVisible()
    assert dialog.shortcut_of("File > Open model…") == "Ctrl+O"
    assert dialog.shortcut_of("File > Save session") == "Ctrl+S"
    assert dialog.shortcut_of("File > Export…") == "Ctrl+E"
    assert dialog.shortcut_of("File > Quit") == "Ctrl+Q"
    assert dialog.shortcut_of("Help > User guide") == "F1"
    assert dialog.shortcut_of("Model > Train a model…") == "Ctrl+T"
    assert dialog.shortcut_of("View > Tabs > Go to Summary") == "Ctrl+1"
    assert dialog.table.rowCount() == len(dialog.rows) >= 12
    # every shortcut is listed once and no two actions share one
    keys = [k for _, k in dialog.rows if "click" not in k]
    assert len(keys) == len(set(keys))
    listed = {name for name, _ in dialog.rows}
    with_keys = {n for n, a in menu_actions(w.menuBar()) if not a.shortcut().isEmpty()}
    assert with_keys <= listed


def test_user_guide_renders_markdown_with_images(new_window):
    w = new_window()
    dialog = w.user_guide()
    doc = dialog.browser.document()
    text = doc.toPlainText()
    sections = ["Model", "Layers", "Input", "Activations", "Compare", "OIP", "Latent", "Training", "Sessions"]
    for heading in sections + ["Preferences", "Command line", "Preparing your own model", "The science"]:
        assert f"\n{heading}" in text, heading
    for command in ("cnnviz info", "cnnviz train vae", "cnnviz activations", "cnnviz oip", "cnnviz latent"):
        assert command in text
    images = re.findall(r'<img src="([^"]+)"', doc.toHtml())
    # the screenshots of every tab this window has and of every dialog exist and are shown
    expected = {"images/main_window.png", "images/dialog-training.png", "images/dialog-preferences.png"}
    expected |= {f"images/tab-{w.tabs.tabText(i).lower()}.png" for i in range(w.tabs.count())}
    assert expected <= set(images)
    guide = Path(dialog.browser.source().toLocalFile()).parent
    for src in images:
        if (
            guide / src
        ).is_file():  # tabs of branches not merged yet get their screenshot with `make screenshots`
            image = doc.resource(doc.ResourceType.ImageResource, dialog.browser.source().resolved(src))
            assert image is not None and not image.isNull(), src
        else:
            assert src.startswith("images/tab-"), src


def test_about_shows_versions_from_the_compute_thread(new_window):
    import keras
    import tensorflow as tf
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    w = new_window()
    w.device = "CPU"
    dialog = w._about()
    text = dialog.text()
    assert f"TensorFlow: {tf.__version__}" in text and f"Keras: {keras.__version__}" in text
    assert f"Qt: {qVersion()}" in text and f"PySide6: {pyside_version}" in text
    assert "Device: CPU" in text and "cnnviz: 0." in text


def test_training_dialog_trains_one_epoch_saves_and_opens(new_window, tmp_path, qtbot):
    w = new_window()
    dialog = w.training_dialog()
    assert not dialog.latent_spin.isEnabled() and not dialog.beta_spin.isEnabled()  # CNN
    out = tmp_path / "tiny_cnn.keras"
    dialog.out_edit.setText(str(out))
    dialog.epochs_spin.setValue(1)
    dialog.samples_spin.setValue(300)
    dialog.start()
    assert dialog.error is None, dialog.error
    assert out.is_file() and dialog.outcome is not None and not dialog.outcome.cancelled
    assert dialog.outcome.n_samples == 300 and "accuracy" in dialog.outcome.test_metrics
    assert dialog.progress_bar.value() == 1000 and "Saved to" in dialog.status_label.text()
    xs, ys = dialog.loss_plot.data["loss"]
    assert len(xs) > 1 and all(0 < x <= 1.0 for x in xs) and all(y > 0 for y in ys)  # the live curve
    assert w.state.info is not None and w.state.info.path == str(out)  # opened in the window
    assert w.state.info.find_layer("Conv2D_3") is not None
    assert dialog.latent_label.isHidden()  # a CNN has no latent space to report on


def test_training_dialog_reports_whether_a_vae_converged(new_window, tmp_path):
    from cnnviz_gui.core.latent.prior_fit import PriorFit

    w = new_window()
    dialog = w.training_dialog()
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("vae"))
    dialog.out_edit.setText(str(tmp_path / "tiny_vae.keras"))
    dialog.epochs_spin.setValue(1)
    dialog.samples_spin.setValue(400)
    dialog.start()
    assert dialog.error is None, dialog.error
    outcome = dialog.outcome
    fit = PriorFit.from_dict(outcome.latent)
    assert outcome.latent["kind"] == "vae" and fit.n_points == 400 and len(fit.centre) == 2
    assert not dialog.latent_label.isHidden()
    text = dialog.latent_label.text()
    assert outcome.latent_summary() and outcome.latent_summary() in text  # centre, r99, share on the data
    assert "latent centre (" in text and "r99" in text and "% of prior samples on the data" in text
    assert "Over the 400 samples" in text
    converged = fit.converged
    assert ("Converged onto the prior" in text) == converged
    assert fit.verdict("train for more epochs").replace("<", "&lt;") in text
    if not converged:
        assert "Not converged onto the prior" in text and "train for more epochs" in text
    # an AE: the same figures, said to be the contrast to a VAE's
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("ae"))
    dialog.out_edit.setText(str(tmp_path / "tiny_ae.keras"))
    dialog.start()
    assert dialog.error is None, dialog.error
    text = dialog.latent_label.text()
    assert "Plain autoencoder" in text and "has no prior" in text and "r99" in text


def test_training_dialog_explains_bad_settings(new_window, tmp_path):
    w = new_window()
    dialog = w.training_dialog()
    dialog.out_edit.setText(str(tmp_path / "missing" / "m.keras"))
    dialog.start()
    assert "does not exist" in dialog.status_label.text() and not dialog.running
    dialog.out_edit.setText(str(tmp_path / "m.keras"))
    dialog.set_dataset_path(str(tmp_path / "no_dataset.npz"))
    dialog.start()
    assert dialog.error is not None and "no_dataset.npz" in dialog.error
    assert "Traceback" not in dialog.status_label.text() and dialog.start_button.isEnabled()


def test_stop_keeps_the_previous_file(new_window, tmp_path, qtbot):
    compute = LocalCompute()
    w = new_window(backend=compute)
    try:
        dialog = w.training_dialog()
        out = tmp_path / "model.keras"
        out.write_bytes(b"the last good model")
        dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("vae"))
        assert dialog.latent_spin.isEnabled() and dialog.beta_spin.isEnabled()
        dialog.out_edit.setText(str(out))
        dialog.epochs_spin.setValue(50)
        dialog.samples_spin.setValue(2000)
        dialog.start()
        assert dialog.running and not dialog.start_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=60_000)
        assert w.training_dialog() is dialog  # Model > Train… again shows the running training
        dialog.reject()  # closing the dialog (Esc / Close) stops the training
        qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)
        assert "previous file is kept" in dialog.status_label.text()
        assert out.read_bytes() == b"the last good model"
        assert not list(tmp_path.glob(".tmp-*"))
        assert dialog.start_button.isEnabled() and dialog.progress_bar.value() < 1000
    finally:
        w.close()
    assert not compute.alive
