"""Render screenshots of the main window for the README and the user guide (offscreen Qt).

Run with ``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py``.
"""

from __future__ import annotations

import sys
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


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from cnnviz_gui.ui.app import create_main_window

    w = create_main_window()
    w.resize(1400, 860)
    w.show()
    w.start()
    wait(app, lambda: w.state.loaded is not None and w.state.input_image is not None and w.device)
    w.state.select_layer("Conv2D_2")
    wait(app, lambda: not w.bridge.compute.busy, 30)
    OUT.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(OUT / "main_window.png"))
    print("wrote", OUT / "main_window.png")
    latent_screenshot(app, w)
    w.close()
    return 0


def latent_screenshot(app: QApplication, w) -> None:
    """The Latent tab with the bundled VAE: scatter, a decoded point, the generation panel."""
    from cnnviz_gui.core.latent import bundled_autoencoder_path

    panel = w.latent_panel
    w.open_model_file(str(bundled_autoencoder_path("vae")))
    wait(app, lambda: panel.shown is not None and not w.bridge.compute.busy)
    w.tabs.setCurrentWidget(panel)
    centroid = panel.stats.centroids[8]
    panel.scatter.clicked.emit(float(centroid[0]), float(centroid[1]))
    panel.bottom.setCurrentIndex(1)
    panel.n_samples.setValue(200)
    panel.generate()
    wait(app, lambda: panel.generation is not None and not w.bridge.compute.busy)
    w.grab().save(str(OUT / "latent_vae.png"))
    print("wrote", OUT / "latent_vae.png")


if __name__ == "__main__":
    raise SystemExit(main())
