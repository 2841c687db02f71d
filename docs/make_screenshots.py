"""Render the screenshots of the README and the user guide (offscreen Qt), so they stay current.

Run with ``make screenshots`` (``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py``).
Writes ``docs/images/main_window.png``, one ``tab-<title>.png`` for every central tab the window has
(``main_window.tabs``: tabs added later are captured without changing this script), one
``dialog-<name>.png`` for each dialog (preferences, keyboard shortcuts, About, training after one short run,
and after training an 8-D VAE: its latent report), ``latent_vae.png`` (the bundled VAE: scatter, statistics,
generation), ``latent_traversal.png`` (the 8-D VAE's traversal and sliders) and the OIP tab's Lucid runs
(:func:`oip_screenshots`). ``docs/make_screenshots.py oip`` makes only the OIP tab's images (a few minutes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

OUT = Path(__file__).resolve().parent / "images"


def wait(app: QApplication, until, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not until() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def save(widget, name: str) -> None:
    widget.grab().save(str(OUT / name))
    print("wrote", OUT / name)


def main() -> int:
    # a fresh home: no recent files, settings or last session of the person appear in (or change by) the shots
    home = tempfile.mkdtemp(prefix="cnnviz-shots-")
    for var, sub in (
        ("HOME", ""),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
    ):
        os.environ[var] = str(Path(home) / sub)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from cnnviz_gui.ui.app import create_main_window

    OUT.mkdir(parents=True, exist_ok=True)
    w = create_main_window()
    w.resize(1400, 860)
    w.show()
    w.start(str(__import__("cnnviz_gui.core.resources", fromlist=["x"]).default_model_path()))
    idle = lambda: not w.bridge.busy  # noqa: E731
    wait(app, lambda: w.state.loaded is not None and w.state.input_image is not None and w.device)
    w.state.select_layer("Conv2D_2")
    wait(app, idle, 30)
    if sys.argv[1:] == ["oip"]:
        w.tabs.setCurrentWidget(w.oip_panel)
        prepare(app, w, w.oip_panel, idle)
        save(w, "tab-oip.png")
        w.oip_panel.pages.setCurrentIndex(1)
        wait(app, idle, 10)
        save(w, "tab-oip-atlas.png")
        oip_screenshots(app, w, idle, home)
        w.close()
        shutil.rmtree(home, ignore_errors=True)
        return 0
    save(w, "main_window.png")

    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        wait(app, idle, 120)
        prepare(app, w, w.tabs.widget(i), idle)
        save(w, f"tab-{slug(w.tabs.tabText(i))}.png")
        if w.tabs.widget(i) is getattr(w, "oip_panel", None):
            w.oip_panel.pages.setCurrentIndex(1)  # the atlas of the run just made
            wait(app, idle, 10)
            save(w, "tab-oip-atlas.png")
            w.oip_panel.pages.setCurrentIndex(0)
        if w.tabs.widget(i) is getattr(w, "attribution_view", None):
            w.attribution_view.lower.setCurrentWidget(w.attribution_view.sanity_panel)
            wait(app, idle, 10)
            save(w, "tab-attribution-sanity.png")
            w.attribution_view.lower.setCurrentWidget(w.attribution_view.methods_panel)
    oip_screenshots(app, w, idle, home)
    if hasattr(w, "latent_panel"):  # the Latent tab is worth seeing with an autoencoder open
        latent_screenshot(app, w)
        save(w, "tab-latent.png")
    w.tabs.setCurrentIndex(0)

    prefs = w.preferences_dialog()
    wait(app, lambda: True)
    save(prefs, "dialog-preferences.png")
    prefs.reject()

    shortcuts = w.shortcuts_dialog()
    wait(app, lambda: True)
    save(shortcuts, "dialog-shortcuts.png")
    shortcuts.close()

    about = w._about()
    wait(app, lambda: "asking" not in about.text(), 30)
    save(about, "dialog-about.png")
    about.close()

    training = w.training_dialog()  # saves to ~/cnnviz_cnn.keras in the temporary home
    training.epochs_spin.setValue(2)
    training.samples_spin.setValue(2000)
    training.start()
    wait(app, lambda: not training.running, 300)
    wait(app, idle, 60)
    save(training, "dialog-training.png")
    vae_training_and_traversal(app, w, training, idle)
    training.close()
    w.close()
    shutil.rmtree(home, ignore_errors=True)
    return 0


def prepare(app: QApplication, w, view, idle) -> None:
    """Put a tab into a state worth showing: pinned digits and class statistics; attribution methods side by
    side for a digit and the pinned ones, and its sanity check; an OIP run."""
    if view is getattr(w, "compare_view", None):
        ds = w.input_panel.browser.dataset if hasattr(w.input_panel, "browser") else None
        labels = list(getattr(ds, "y", [])) if ds is not None else []
        for digit in (4, 4, 9, 9):
            index = next((k for k, y in enumerate(labels) if y == digit and k not in prepare.used), None)
            if index is None:
                continue
            prepare.used.add(index)
            w.input_panel.select_sample(index)
            wait(app, idle, 30)
            view.pin_current()
            wait(app, idle, 30)
        view.stats_panel.compute_stats()
        wait(app, lambda: view.stats_panel.plot.stats is not None and idle(), 180)
    elif view is getattr(w, "attribution_view", None):
        ds = w.input_panel.browser.dataset
        labels = list(getattr(ds, "y", [])) if ds is not None else []
        index = next((k for k, y in enumerate(labels) if y == 7), None)
        if index is not None:
            w.input_panel.select_sample(index)
        wait(app, lambda: view.shown.result is not None and idle(), 60)
        view.run_sanity()
        wait(app, lambda: view.shown.sanity is not None and idle(), 180)
        view.compare()  # the current digit and Compare's pinned ones, every method
        wait(app, lambda: view.shown.comparison is not None and idle(), 300)
    elif view is getattr(w, "oip_panel", None):
        view.form.select_layer("Conv2D_2")
        view.form.maps_edit.setText("0-31")
        view.form.steps.setValue(300)
        view.start()
        wait(app, lambda: not view.running and view.result is not None, 300)


prepare.used = set()

TEXTURES = """
import sys
import numpy as np
sys.path.insert(0, {tests!r})
from rgb_textures import textures, trained_rgb_cnn
model, _ = trained_rgb_cnn()
model.save({model!r})
x, y = textures(2000, seed=1)
names = np.array(["red horizontal", "green vertical", "blue diagonal", "yellow blob"])
np.savez({data!r}, x=(x * 255).astype(np.uint8), y=y, class_names=names)
"""


def oip_run(app, w, idle, layer: str, maps: str, diversity: int, live_shot: str = "") -> None:
    """A Lucid run (the preset's 512 steps) with dataset exemplars; ``live_shot``: the window saved while the
    search runs (a third of the way)."""
    panel = w.oip_panel
    w.tabs.setCurrentWidget(panel)
    panel.form.preset_box.setCurrentText("Lucid")
    panel.form.apply_preset("Lucid")
    panel.form.select_layer(layer)
    panel.form.maps_edit.setText(maps)
    panel.form.diversity.setValue(diversity)
    panel.exemplar_check.setChecked(True)
    panel.start()
    if live_shot:

        def steps_drawn() -> int:
            x, _ = panel.live.curve.getData()
            return 0 if x is None else len(x)

        wait(app, lambda: not panel.running or steps_drawn() > 170, 600)
        save(w, live_shot)
    wait(app, lambda: not panel.running and panel.result is not None, 900)
    wait(app, lambda: panel.exemplars is not None or not panel.finder.running, 300)
    wait(app, idle, 30)


def oip_screenshots(app, w, idle, home: str) -> None:
    """The OIP atlas with dataset exemplars: the default CNN's Conv2D_3 beside the bundled digits, and a small
    RGB CNN (trained here in seconds on coloured textures, in a child process: the window's process never
    imports TensorFlow) with 3 diverse images per map beside the texture images; its live run too."""
    panel = w.oip_panel
    oip_run(app, w, idle, "Conv2D_3", "0-39", 1)
    panel.pages.setCurrentIndex(1)
    wait(app, idle, 10)
    save(w, "tab-oip-atlas-exemplars.png")
    model, data = Path(home) / "textures_cnn.keras", Path(home) / "textures.npz"
    code = TEXTURES.format(tests=str(OUT.parent.parent / "tests"), model=str(model), data=str(data))
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    w.open_model_file(str(model))
    wait(app, lambda: w.state.info is not None and w.state.info.name == "rgb_textures_cnn" and idle(), 120)
    w.state.set_convention("0..1")  # the textures CNN was trained on 0..1
    w.input_panel.browser.load_source(str(data))
    wait(app, lambda: w.state.dataset_key == str(data) and idle(), 120)
    oip_run(app, w, idle, "c4", "0-15", 3, live_shot="tab-oip-live-lucid-rgb.png")
    panel.pages.setCurrentIndex(1)
    wait(app, idle, 10)
    save(w, "tab-oip-atlas-rgb.png")
    panel.show_run(int(panel.atlas.order[0]))
    wait(app, idle, 10)
    save(w, "tab-oip-map-rgb.png")
    panel.pages.setCurrentIndex(0)
    w.open_model_file(str(__import__("cnnviz_gui.core.resources", fromlist=["x"]).default_model_path()))
    wait(app, lambda: w.state.info is not None and w.state.info.name != "rgb_textures_cnn" and idle(), 120)


def latent_screenshot(app: QApplication, w) -> None:
    """The Latent tab with the bundled VAE: scatter, a decoded point, the generation panel."""
    from cnnviz_gui.core.latent.space import bundled_autoencoder_path

    panel = w.latent_panel
    w.open_model_file(str(bundled_autoencoder_path("vae")))
    wait(app, lambda: panel.shown is not None and not w.bridge.busy)
    w.tabs.setCurrentWidget(panel)
    centroid = panel.stats.centroids[8]
    panel.scatter.clicked.emit(float(centroid[0]), float(centroid[1]))
    panel.bottom.setCurrentIndex(1)
    panel.n_samples.setValue(200)
    panel.generate()
    wait(app, lambda: panel.generation is not None and not w.bridge.busy)
    w.grab().save(str(OUT / "latent_vae.png"))
    print("wrote", OUT / "latent_vae.png")


def vae_training_and_traversal(app: QApplication, w, training, idle) -> None:
    """Train an 8-D VAE in the training dialog (its latent report), then its Traversal page with two sliders
    moved."""
    training.kind_box.setCurrentIndex(training.kind_box.findData("vae"))
    training.latent_spin.setValue(8)
    training.epochs_spin.setValue(5)
    training.samples_spin.setValue(0)  # all 10,000 digits
    training.out_edit.setText(str(Path(os.environ["HOME"]) / "cnnviz_vae8.keras"))
    training.start()
    wait(app, lambda: not training.running, 900)
    save(training, "dialog-training-vae.png")
    panel = w.latent_panel
    new = lambda: panel.traversal is not None and panel.traversal.z_dim == 8  # noqa: E731
    wait(app, lambda: new() and panel.view.slider_image is not None and idle(), 180)
    w.tabs.setCurrentWidget(panel)
    panel.views.setCurrentWidget(panel.traversal_tab)
    dims = panel.traversal.dims
    panel.sliders.set_offset(int(dims[0]), 1.5)
    panel.sliders.set_offset(int(dims[1]), -1.0)
    wait(app, idle, 30)
    save(w, "latent_traversal.png")


if __name__ == "__main__":
    raise SystemExit(main())
