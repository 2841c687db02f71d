"""The main window: a shell of docks (Model, Layers, Input), central tabs, menus, status bar and export.

What happens in it lives elsewhere: opening models in :class:`~cnnviz_gui.ui.model.opener.ModelOpener`,
sessions in :class:`~cnnviz_gui.ui.session.SessionManager`, every computation in the compute process behind
the :class:`~cnnviz_gui.ui.bridge.ComputeBridge`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QTabWidget,
    QWidget,
)

from cnnviz_gui import __version__
from cnnviz_gui.core.datasets import BUNDLED
from cnnviz_gui.core.resources import default_model_path
from cnnviz_gui.core.session import last_session_path
from cnnviz_gui.ui import dialogs
from cnnviz_gui.ui.activations.compare import CompareView
from cnnviz_gui.ui.activations.view import ActivationView
from cnnviz_gui.ui.attribution.view import AttributionView
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.garbage import collect_on_gui_thread
from cnnviz_gui.ui.input.panel import InputPanel
from cnnviz_gui.ui.latent.panel import LatentPanel
from cnnviz_gui.ui.menus import build_menus, tab_action
from cnnviz_gui.ui.messages import Messages
from cnnviz_gui.ui.model.layers_pane import LayersPane
from cnnviz_gui.ui.model.opener import ModelOpener
from cnnviz_gui.ui.model.panel import ModelPanel
from cnnviz_gui.ui.model.summary import SummaryView
from cnnviz_gui.ui.oip.panel import OipPanel
from cnnviz_gui.ui.session import SessionManager
from cnnviz_gui.ui.settings import Preferences, open_settings
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.status_line import StatusLine
from cnnviz_gui.ui.views import ViewRegistry
from cnnviz_gui.ui.window_dialogs import WindowDialogs
from cnnviz_gui.ui.window_files import WindowFiles

#: jobs that Stop (Esc) leaves running: TensorFlow's start and reading the bundled data
KEEP_ON_STOP = ("startup", "startup-data")


class MainWindow(WindowDialogs, WindowFiles, QMainWindow):
    """The application window. Views are added as central tabs with :meth:`add_view`."""

    def __init__(self, state: AppState, bridge: ComputeBridge, settings: QSettings | None = None):
        super().__init__()
        collect_on_gui_thread()  # garbage holding Qt objects must never be freed off the GUI thread
        self.state, self.bridge = state, bridge
        self.settings_problem: str | None = None
        if settings is None:
            settings, self.settings_problem = open_settings()
        self.settings = settings
        self.preferences = Preferences.load(self.settings)
        bridge.use_spare = bridge.use_spare and self.preferences.spare_process
        self.docks: list[QDockWidget] = []
        self.tab_actions, self.view_menu_actions = [], []
        self._dialogs: dict[str, QWidget] = {}
        self.device = ""
        # replaceable in tests: (parent, ModelLoadError) -> bool and (parent, title, text, details) -> None
        self.ask_consent = dialogs.ask_consent
        self.show_message_box = dialogs.show_message
        self.ask_question = dialogs.ask_question
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.notices = Messages(self.statusBar(), lambda *a: self.show_message_box(self, *a))
        self.opener = ModelOpener(state, bridge, self.notices, self.settings,
                                  lambda err: self.ask_consent(self, err), self)  # fmt: skip
        self.views = ViewRegistry(self.tabs, self.docks)
        self.sessions = SessionManager(state, self.opener, self.views, self.notices, self.settings, self)

        self.setWindowTitle(f"cnnviz {__version__}")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self.model_panel = ModelPanel(state)
        self.model_panel.open_requested.connect(self.open_dialog)
        self.model_panel.recent_chosen.connect(self.open_model_file)
        self.model_dock = self.add_dock("Model", self.model_panel, left)
        self.layers_pane = LayersPane(state)
        self.layer_tree = self.layers_pane.tree
        self.layers_dock = self.add_dock("Layers", self.layers_pane, left)
        self.summary_view = self.add_view(SummaryView(state, bridge))
        self.input_panel = InputPanel(state, bridge)
        self.input_dock = self.add_dock("Input", self.input_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.activation_view = self.add_view(ActivationView(state, bridge))
        self.compare_view = compare = self.add_view(CompareView(state, bridge))
        # the Attribution tab reads Compare's pinned inputs, nothing else of it
        self.attribution_view = self.add_view(AttributionView(state, bridge, pins=lambda: compare.pins))
        self.oip_panel = self.add_view(OipPanel(state, bridge))
        self.latent_panel = self.add_view(LatentPanel(state, bridge))
        self.latent_panel.open_model_requested.connect(self.open_model_file)
        self.resizeDocks([self.model_dock, self.layers_dock], [300, 480], Qt.Orientation.Vertical)
        self.resizeDocks([self.model_dock, self.input_dock], [300, 340], Qt.Orientation.Horizontal)
        build_menus(self)
        self.status_line = StatusLine(self.statusBar(), bridge, state, self.stop_jobs)
        self.job_label, self.progress = self.status_line.job_label, self.status_line.progress
        self.stop_button, self.device_label = self.status_line.stop_button, self.status_line.device_label
        self.model_panel.set_recent(self.opener.recent_files())
        self.opener.recent_changed.connect(self.model_panel.set_recent)
        self.opener.busy.connect(self.status_line.show_job)
        bridge.job_failed.connect(
            lambda label, err: self.show_message(f"{label} failed", err.message, err.details)
        )
        bridge.process_message.connect(lambda text: self.notices.status(text, 15000))
        state.model_changed.connect(self._on_model_changed)
        for key, restore in (("window/geometry", self.restoreGeometry), ("window/state", self.restoreState)):
            if isinstance(value := self.settings.value(key), QByteArray):
                restore(value)

    # -- construction ---------------------------------------------------------------------------------------
    def add_dock(self, title: str, widget: QWidget, area=Qt.DockWidgetArea.LeftDockWidgetArea) -> QDockWidget:
        """Add a dock (e.g. the Input pane); it appears in the View menu."""
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "_") + "_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks.append(dock)
        self.view_menu_actions.append(dock.toggleViewAction())
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def add_view(self, widget: QWidget, title: str | None = None) -> QWidget:
        """Add a central tab (an :class:`~cnnviz_gui.ui.widgets.view.ExportableView`); returns the widget.

        Optional: ``session_state()``/``restore_session(d)`` and ``apply_preferences(prefs)``.
        """
        index = self.tabs.addTab(widget, title or getattr(widget, "title", type(widget).__name__))
        self.tab_actions.append(tab_action(self, index))
        if hasattr(self, "tabs_menu"):
            self.tabs_menu.addAction(self.tab_actions[-1])
        if hasattr(widget, "apply_preferences"):
            widget.apply_preferences(self.preferences)
        return widget

    # -- start-up -------------------------------------------------------------------------------------------
    def start(self, model_path: str | None = None) -> None:
        """Start TensorFlow in the compute process, then open ``model_path``, the last session (a
        preference) or the default model; the bundled digits are read meanwhile."""
        self.status_line.show_job("Loading TensorFlow")
        # the bundled digits are read before TensorFlow's import, which takes seconds
        self.input_panel.browser.load_source(BUNDLED, kind="startup-data", select_first=False)
        prefs = {"device": self.preferences.device, "threads": self.preferences.threads}
        self.bridge.request("runtime.start", prefs, kind="startup", label="Loading TensorFlow", sticky="runtime",
                            on_result=lambda r: self._on_device(r["device"]),
                            on_error=lambda err: self._on_device("CPU (TensorFlow failed to start)"))  # fmt: skip
        if self.settings_problem:
            self.show_message("Settings reset", self.settings_problem)
        if model_path is None and self._should_restore_last() and self.sessions.restore_last():
            return
        self.open_path(model_path or str(default_model_path()))

    def _should_restore_last(self) -> bool:
        policy = self.preferences.restore_session
        if policy == "never" or not last_session_path().is_file():
            return False
        return policy == "restore" or self.ask_question(
            self, "Restore last session?", "Restore the model, layer and input you had open last time?"
        )

    def _on_device(self, device: str) -> None:
        self.device = device
        self.status_line.set_device(device)

    # -- the model -----------------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        self.setWindowTitle(f"cnnviz — {loaded.info.name} ({Path(loaded.info.path).name})")
        if self.state.input_image is None and loaded.info.image_input:
            QTimer.singleShot(0, self._set_default_input)

    def _set_default_input(self) -> None:
        if self.state.input_image is None:
            self.input_panel.select_sample(0)
            if self.tabs.currentWidget() is self.summary_view:  # unless the person went to another tab
                self.tabs.setCurrentWidget(self.activation_view)

    def find_layer(self) -> None:
        """Show the Layers dock and put the cursor in its filter box (Ctrl+F)."""
        self.layers_dock.show()
        self.layers_dock.raise_()
        self.layers_pane.focus_filter()

    # -- messages, status, close -------------------------------------------------------------------------------
    def show_message(self, title: str, text: str, details: str = "") -> None:
        self.notices.show(title, text, details)
        self.status_line.update_idle()

    @property
    def last_message(self) -> tuple[str, str] | None:
        return self.notices.last

    def stop_jobs(self) -> None:
        """Stop what runs or waits in the compute process (Stop button, Esc); TensorFlow's start goes on."""
        if self.bridge.stop(keep=KEEP_ON_STOP):
            self.notices.status("Stopped", 3000)

    def closeEvent(self, event) -> None:
        self.sessions.save_last()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        for dialog in self._dialogs.values():
            dialog.close()
        self.bridge.shutdown()
        super().closeEvent(event)
