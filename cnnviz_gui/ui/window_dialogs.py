"""The main window's dialogs: About, keyboard shortcuts, user guide, preferences, training.

A mixin of :class:`~cnnviz_gui.ui.main_window.MainWindow` (it uses the window's ``bridge``, ``settings``,
``preferences``, ``views`` and ``open_model_file``). The dialogs are non-modal and kept in ``_dialogs``.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QWidget

from cnnviz_gui.ui.help_dialogs import AboutDialog, ShortcutsDialog, UserGuideDialog
from cnnviz_gui.ui.model.training_dialog import TrainingDialog
from cnnviz_gui.ui.preferences_dialog import PreferencesDialog, apply_theme
from cnnviz_gui.ui.settings import Preferences


class WindowDialogs:
    """Opens the Help, Preferences and Train dialogs of the main window."""

    _dialogs: dict[str, QWidget]

    def _show_dialog(self, key: str, dialog: QWidget) -> QWidget:
        """Show a non-modal dialog (kept in ``_dialogs`` so tests and a second click find it)."""
        old = self._dialogs.get(key)
        if old is not None:
            old.close()
        self._dialogs[key] = dialog
        dialog.show()
        return dialog

    def _about(self) -> AboutDialog:
        dialog = AboutDialog(self, self.device)
        self._show_dialog("about", dialog)
        self.bridge.request(
            "runtime.versions",
            label="Reading versions",
            on_result=lambda v: dialog.set_versions({**v, "Device": self.device or v["Device"]}),
            on_error=lambda err: dialog.set_versions({"TensorFlow": f"not available ({err.message})"}),
        )
        return dialog

    def shortcuts_dialog(self) -> ShortcutsDialog:
        extra = [("Layers tree: select several maps", "Ctrl+click / Shift+click")]
        return self._show_dialog("shortcuts", ShortcutsDialog(self.menuBar(), self, extra))

    def user_guide(self) -> UserGuideDialog:
        return self._show_dialog("guide", UserGuideDialog(self))

    def preferences_dialog(self) -> PreferencesDialog:
        dialog = PreferencesDialog(self.preferences, self, os.cpu_count())
        dialog.accepted.connect(lambda: self.set_preferences(dialog.preferences(), dialog.needs_restart()))
        return self._show_dialog("preferences", dialog)

    def set_preferences(self, prefs: Preferences, needs_restart: bool = False) -> None:
        """Store and apply preferences; device and thread changes restart the compute process (at once, or
        when the running job has ended)."""
        self.preferences = prefs
        prefs.save(self.settings)
        apply_theme(prefs.theme)
        for view in self.views.all():  # central tabs and dock widgets
            if hasattr(view, "apply_preferences"):
                view.apply_preferences(prefs)
        self.bridge.use_spare = prefs.spare_process
        if needs_restart:
            self.bridge.update_sticky("runtime", {"device": prefs.device, "threads": prefs.threads})
            if self.bridge.busy:
                self.notices.status(
                    "Device and thread settings take effect when the running job has ended.", 10000
                )
            self.bridge.restart_when_idle("The compute device or threads changed")

    def training_dialog(self):
        current = self._dialogs.get("training")
        if current is not None and (current.isVisible() or current.running):
            current.show()  # one training at a time: a second click shows the running one
            return current
        return self._show_dialog("training", TrainingDialog(self.bridge, self.open_model_file, self))
