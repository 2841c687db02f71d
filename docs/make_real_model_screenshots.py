"""Screenshots of the app on every ``keras.applications`` family at its real input size (weights=None), the
drawn test photo as input, for ``docs/real-models.md``.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_real_model_screenshots.py [family ... | all]``
(several minutes; VGG16's file is 528 MB); without arguments the four shown in the document are made. Each model is built and saved in a temporary folder, opened in the
window (operations run in this process, synchronously), a layer chosen, and the window grabbed and scaled to
1000 pixels wide as ``docs/images/real-<family>.png`` (256 colours).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
OUT = HERE / "images"
WIDTH = 1000

#: family -> (keras.applications class, layer shown, what else to set: filter text, sort, top N, map)
SHOTS = {
    "vgg16": ("VGG16", "block1_conv2", {"map": 7}),
    "resnet50": ("ResNet50", "conv5_block3_add", {"filter": "add", "map": "most active"}),
    "mobilenetv2": ("MobileNetV2", "block_6_expand_relu", {"sort": "mean", "top": 64}),
    "efficientnetb0": ("EfficientNetB0", "block3a_expand_activation", {}),
    "inceptionv3": ("InceptionV3", "mixed5", {"filter": "concat", "sort": "max", "top": 256}),
    "densenet121": ("DenseNet121", "conv4_block24_concat", {"map": 100}),
    "convnexttiny": ("ConvNeXtTiny", "convnext_tiny_stage_3_block_0_pointwise_conv_1", {"top": 256}),
}

#: the screenshots ``docs/real-models.md`` shows
DOCUMENTED = ("vgg16", "resnet50", "inceptionv3", "densenet121")


def pump(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def small_png(path: Path) -> None:
    """Rewrite a screenshot with a 256-colour palette (about a third of the size, no visible change)."""
    from PIL import Image

    with Image.open(path) as img:
        rgb = img.convert("RGB")
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


def main(families: list[str]) -> int:
    home = tempfile.mkdtemp(prefix="cnnviz-real-shots-")
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state")):
        os.environ[var] = str(Path(home) / sub)
    sys.path.insert(0, str(HERE.parent / "tests"))
    from drawn_photo import draw_photo
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    import keras

    from cnnviz_gui.core.runtime.local import LocalCompute
    from cnnviz_gui.ui.activations.map_browser import map_order
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    photo = Path(home) / "house.jpg"
    draw_photo().save(photo, quality=90)
    OUT.mkdir(exist_ok=True)
    for family in families:
        cls, layer, extra = SHOTS[family]
        path = Path(home) / f"{family}.keras"
        getattr(keras.applications, cls)(weights=None).save(path)
        w = MainWindow(AppState(), ComputeBridge(LocalCompute(synchronous=True)))
        w.show_message_box = lambda parent, title, text, details="": print(f"  message: {title}: {text}")
        w.resize(1400, 860)
        w.show()
        w.open_model_file(str(path))
        w.open_path(str(photo))
        w.tabs.setCurrentWidget(w.activation_view)
        browser = w.activation_view.browser
        if "sort" in extra:
            browser.set_sort(extra["sort"])
        if "top" in extra:
            browser.set_top(extra["top"])
        w.state.select_layer(layer)
        if "map" in extra:
            m = extra["map"]
            if m == "most active":
                m = int(map_order(browser.maps, "mean")[0])
            w.state.select_maps(layer, [m])
        if "filter" in extra:
            w.layers_pane.filter_box.setText(extra["filter"])
            w.layer_tree.scrollToItem(w.layer_tree.layer_item(layer))
        pump(app)
        image = w.grab().toImage().scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
        image.save(str(OUT / f"real-{family}.png"))
        small_png(OUT / f"real-{family}.png")
        view = w.activation_view
        print(f"{cls}: {w.state.info.input_shape}, {view.layer_label.text()}, {view.probs.text}, "
              f"convention {w.state.convention}; wrote {OUT / f'real-{family}.png'}")  # fmt: skip
        w.close()
        w.deleteLater()
        pump(app, 0.1)
        path.unlink()
        keras.backend.clear_session()
    shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(DOCUMENTED)
    sys.exit(main(list(SHOTS) if chosen == ["all"] else chosen))
