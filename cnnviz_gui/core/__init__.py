"""Qt-free core: owns TensorFlow. Never import PySide6 or pyqtgraph here."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
