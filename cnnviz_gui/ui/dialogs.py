"""Dialogs for messages a person must read: refusals, consent to run a file's code, job errors."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from cnnviz_gui.core.models.loading import ModelLoadError


def consent_text(err: ModelLoadError) -> str:
    layers = ", ".join(err.unsafe_layers) or "one of its layers"
    return (
        f"{err.message}\n\nLayers with code: {layers}.\n\nOpen this one file without safe mode and run its "
        "code? Choose this only for a file you made yourself or got from someone you trust. Safe mode stays "
        "on for every other file."
    )


def ask_consent(parent: QWidget, err: ModelLoadError) -> bool:
    """Ask whether to run the code in this one file; the default answer is no."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("This model file contains code")
    box.setText(consent_text(err))
    if err.summary is not None and err.summary.layers:
        box.setDetailedText("What the file contains (read without running it):\n" + err.summary.format_text())
    run = box.addButton("Open and run its code", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Do not open", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is run


def show_message(parent: QWidget, title: str, text: str, details: str = "", error: bool = True) -> None:
    """A message box with an optional "Show Details…" expander."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical if error else QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(text)
    if details:
        box.setDetailedText(details)
    box.exec()


def ask_question(parent: QWidget, title: str, text: str) -> bool:
    """A yes/no question; the default answer is yes."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes
