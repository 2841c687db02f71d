"""Preferences: default colour map, compute device, number of threads, theme, what happens at start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.ui.settings import COLORMAP_NAMES, DEVICES, MAX_THREADS, RESTORE, THEMES, Preferences

_system_look: dict = {}


def apply_theme(theme: str, app: QApplication | None = None) -> None:
    """Light or dark (Fusion style with a matching palette), or back to the system's own look."""
    app = app or QApplication.instance()
    if app is None:
        return
    if not _system_look:
        _system_look.update(style=app.style().name(), palette=QPalette(app.palette()))
    hints = app.styleHints()
    scheme = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(theme, Qt.ColorScheme.Unknown)
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(scheme)
    if theme == "system":
        app.setStyle(_system_look["style"])
        app.setPalette(_system_look["palette"])
        return
    app.setStyle("Fusion")
    palette = app.style().standardPalette()
    if theme == "dark":
        palette = _dark_palette()
    app.setPalette(palette)


def _dark_palette() -> QPalette:
    p = QPalette()
    role, c = QPalette.ColorRole, QColor
    for r, colour in (
        (role.Window, c(45, 45, 48)),
        (role.WindowText, c(220, 220, 220)),
        (role.Base, c(30, 30, 32)),
        (role.AlternateBase, c(50, 50, 54)),
        (role.ToolTipBase, c(60, 60, 64)),
        (role.ToolTipText, c(230, 230, 230)),
        (role.Text, c(220, 220, 220)),
        (role.Button, c(55, 55, 58)),
        (role.ButtonText, c(220, 220, 220)),
        (role.Highlight, c(42, 130, 218)),
        (role.HighlightedText, c(255, 255, 255)),
        (role.Link, c(90, 160, 255)),
        (role.PlaceholderText, c(140, 140, 140)),
    ):
        p.setColor(r, colour)
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, c(120, 120, 120))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, c(120, 120, 120))
    p.setColor(QPalette.ColorGroup.Disabled, role.WindowText, c(120, 120, 120))
    return p


class PreferencesDialog(QDialog):
    """Edits a copy of the preferences; :meth:`preferences` returns the edited values after OK."""

    def __init__(self, prefs: Preferences, parent: QWidget | None = None, cpu_count: int | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._initial = prefs
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.colormap_box = QComboBox()
        self.colormap_box.addItems(COLORMAP_NAMES)
        self.colormap_box.setCurrentText(prefs.colormap)
        self.colormap_box.setToolTip("The colour map new views start with (each view can still change it)")
        form.addRow("Default colour map:", self.colormap_box)

        self.device_box = QComboBox()
        for key, label in DEVICES.items():
            self.device_box.addItem(label, key)
        self.device_box.setCurrentIndex(list(DEVICES).index(prefs.device))
        form.addRow("Compute device:", self.device_box)

        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, MAX_THREADS)
        self.threads_spin.setSpecialValueText("automatic")
        self.threads_spin.setValue(prefs.threads)
        hint = f" (this computer has {cpu_count} cores)" if cpu_count else ""
        self.threads_spin.setToolTip("Threads TensorFlow may use for one operation; 0 = automatic" + hint)
        form.addRow("TensorFlow threads:", self.threads_spin)

        self.theme_box = QComboBox()
        for key, label in THEMES.items():
            self.theme_box.addItem(label, key)
        self.theme_box.setCurrentIndex(list(THEMES).index(prefs.theme))
        form.addRow("Theme:", self.theme_box)

        self.restore_box = QComboBox()
        for key, label in RESTORE.items():
            self.restore_box.addItem(label, key)
        self.restore_box.setCurrentIndex(list(RESTORE).index(prefs.restore_session))
        form.addRow("At start:", self.restore_box)

        self.spare_box = QCheckBox("Keep a spare compute process ready")
        self.spare_box.setChecked(prefs.spare_process)
        self.spare_box.setToolTip(
            "A second compute process with TensorFlow loaded waits in the background, so that after a crash or "
            "a Stop that had to end the compute process your model is back in its open time instead of "
            "TensorFlow's start as well. Costs a few hundred MB of memory."
        )
        form.addRow("Recovery:", self.spare_box)

        self.restart_note = QLabel(
            "Device and thread changes restart the compute process (TensorFlow fixes them when it loads); "
            "the open model is opened again."
        )
        self.restart_note.setWordWrap(True)
        self.restart_note.setStyleSheet("color: palette(placeholder-text);")

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        self.buttons = buttons

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.restart_note)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def preferences(self) -> Preferences:
        return Preferences(
            colormap=self.colormap_box.currentText(),
            device=self.device_box.currentData(),
            threads=self.threads_spin.value(),
            theme=self.theme_box.currentData(),
            restore_session=self.restore_box.currentData(),
            spare_process=self.spare_box.isChecked(),
        )

    def restore_defaults(self) -> None:
        d = Preferences()
        self.colormap_box.setCurrentText(d.colormap)
        self.device_box.setCurrentIndex(list(DEVICES).index(d.device))
        self.threads_spin.setValue(d.threads)
        self.theme_box.setCurrentIndex(list(THEMES).index(d.theme))
        self.restore_box.setCurrentIndex(list(RESTORE).index(d.restore_session))
        self.spare_box.setChecked(d.spare_process)

    def needs_restart(self) -> bool:
        """Whether the edited values change something that only applies at the next start."""
        new = self.preferences()
        return (new.device, new.threads) != (self._initial.device, self._initial.threads)
