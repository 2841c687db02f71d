"""The main window: Model and Layers docks, central tabs, menus, status bar, drag & drop, export."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QTabWidget,
    QToolButton,
    QWidget,
)

from cnnviz_gui import __version__
from cnnviz_gui.core import figures
from cnnviz_gui.core.datasets import warm_bundled_mnist
from cnnviz_gui.core.models.loading import MODEL_SUFFIXES, LoadedModel, ModelLoadError, open_model
from cnnviz_gui.core.resources import default_model_path
from cnnviz_gui.core.runtime.jobs import JobError, configure_tensorflow
from cnnviz_gui.core.session import SESSION_SUFFIX
from cnnviz_gui.ui import dialogs
from cnnviz_gui.ui.activations.compare import CompareView
from cnnviz_gui.ui.activations.view import ActivationView
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.garbage import collect_on_gui_thread, release_unused_when_idle
from cnnviz_gui.ui.input.panel import InputPanel
from cnnviz_gui.ui.latent.panel import LatentPanel
from cnnviz_gui.ui.model.layer_tree import LayerTree
from cnnviz_gui.ui.model.panel import ModelPanel, recent_labels
from cnnviz_gui.ui.model.summary import SummaryView
from cnnviz_gui.ui.oip.panel import OipPanel
from cnnviz_gui.ui.session import SessionManager
from cnnviz_gui.ui.settings import Preferences, open_settings
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.window_dialogs import WindowDialogs

MAX_RECENT = 10
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
EXPORT_FILTER = "PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf);;Raw arrays (*.npz)"


class MainWindow(WindowDialogs, QMainWindow):
    """The application window. Views are added as central tabs with :meth:`add_view`."""

    def __init__(self, state: AppState, bridge: ComputeBridge, settings: QSettings | None = None):
        super().__init__()
        collect_on_gui_thread()  # garbage holding Qt objects must never be freed on the compute thread
        self.state = state
        self.bridge = bridge
        self.settings_problem: str | None = None
        if settings is None:
            settings, self.settings_problem = open_settings()
        self.settings = settings
        self.preferences = Preferences.load(self.settings)
        self.sessions = SessionManager(self)
        self.docks: list[QDockWidget] = []
        self.tab_actions: list[QAction] = []
        self._dialogs: dict[str, QWidget] = {}
        self.device = ""
        self.last_message: tuple[str, str] | None = None
        self.last_export: Path | None = None
        # replaceable in tests: (parent, ModelLoadError) -> bool and (parent, title, text, details) -> None
        self.ask_consent = dialogs.ask_consent
        self.show_message_box = dialogs.show_message
        self.ask_question = dialogs.ask_question
        self._open_started = 0.0

        self.setWindowTitle(f"cnnviz {__version__}")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)

        self.model_panel = ModelPanel(state)
        self.model_panel.open_requested.connect(self.open_dialog)
        self.model_panel.recent_chosen.connect(self.open_model_file)
        self.model_dock = self._add_dock("Model", self.model_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.layer_tree = LayerTree(state)
        self.layers_dock = self._add_dock("Layers", self.layer_tree, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.summary_view = SummaryView(state, bridge)
        self.add_view(self.summary_view)
        self.input_panel = InputPanel(state, bridge)
        self.input_dock = self.add_dock("Input", self.input_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.activation_view = ActivationView(state, bridge)
        self.add_view(self.activation_view)
        self.compare_view = CompareView(state, bridge)
        self.add_view(self.compare_view)
        self.oip_panel = OipPanel(state, bridge)
        self.add_view(self.oip_panel)
        self.latent_panel = LatentPanel(state, bridge)
        self.add_view(self.latent_panel)
        self.latent_panel.open_model_requested.connect(self.open_model_file)

        self.resizeDocks([self.model_dock, self.layers_dock], [300, 480], Qt.Orientation.Vertical)
        self.resizeDocks([self.model_dock, self.input_dock], [300, 340], Qt.Orientation.Horizontal)
        self._build_menus()
        self._build_status_bar()
        self.model_panel.set_recent(self.recent_files())
        bridge.status_changed.connect(self._on_compute_status)
        bridge.job_failed.connect(self._on_job_failed)
        state.model_changed.connect(self._on_model_changed)
        self._restore_window_layout()

    def _restore_window_layout(self) -> None:
        geometry, layout = self.settings.value("window/geometry"), self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(layout, QByteArray):
            self.restoreState(layout)

    # -- construction -------------------------------------------------------------------------------
    def _add_dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "_") + "_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks.append(dock)
        self.view_menu_actions = getattr(self, "view_menu_actions", [])
        self.view_menu_actions.append(dock.toggleViewAction())
        return dock

    def add_dock(self, title: str, widget: QWidget, area=Qt.DockWidgetArea.LeftDockWidgetArea) -> QDockWidget:
        """Add a dock (e.g. the Input pane); it appears in the View menu."""
        dock = self._add_dock(title, widget, area)
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def add_view(self, widget: QWidget, title: str | None = None) -> int:
        """Add a central tab; the widget should implement :class:`~cnnviz_gui.ui.widgets.view.ExportableView`.

        Optional: ``session_state()``/``restore_session(d)`` (see :mod:`cnnviz_gui.ui.session`) and
        ``apply_preferences(prefs)`` (called now and whenever the preferences change).
        """
        index = self.tabs.addTab(widget, title or getattr(widget, "title", type(widget).__name__))
        self._add_tab_action(index)
        if hasattr(widget, "apply_preferences"):
            widget.apply_preferences(self.preferences)
        return index

    def _add_tab_action(self, index: int) -> None:
        """View > Go to <tab> with Ctrl+1 … Ctrl+9."""
        action = QAction(f"Go to {self.tabs.tabText(index)}", self)
        if index < 9:
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
        action.triggered.connect(lambda checked=False, i=index: self.tabs.setCurrentIndex(i))
        self.addAction(action)
        self.tab_actions.append(action)
        if hasattr(self, "tabs_menu"):
            self.tabs_menu.addAction(action)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = QAction("&Open model…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_dialog)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.default_action = QAction("Open &default MNIST model", self)
        self.default_action.triggered.connect(lambda: self.open_model_file(str(default_model_path())))
        file_menu.addAction(self.default_action)
        file_menu.addSeparator()
        self.open_session_action = QAction("Open &session…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        self.open_session_action.triggered.connect(self.sessions.open_dialog)
        file_menu.addAction(self.open_session_action)
        self.recent_sessions_menu = file_menu.addMenu("Recent sess&ions")
        self.recent_sessions_menu.aboutToShow.connect(
            lambda: self.sessions.fill_recent_menu(self.recent_sessions_menu)
        )
        self.save_session_action = QAction("&Save session", self, shortcut=QKeySequence.StandardKey.Save)
        self.save_session_action.triggered.connect(lambda: self.sessions.save())
        file_menu.addAction(self.save_session_action)
        self.save_session_as_action = QAction(
            "Save session &as…", self, shortcut=QKeySequence("Ctrl+Shift+S")
        )
        self.save_session_as_action.triggered.connect(self.sessions.save_as_dialog)
        file_menu.addAction(self.save_session_as_action)
        file_menu.addSeparator()
        self.export_action = QAction("&Export…", self, shortcut=QKeySequence("Ctrl+E"))
        self.export_action.triggered.connect(self.export_dialog)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        self.preferences_action = QAction("&Preferences…", self, shortcut=QKeySequence("Ctrl+,"))
        self.preferences_action.triggered.connect(self.preferences_dialog)
        file_menu.addAction(self.preferences_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        model_menu = bar.addMenu("&Model")
        self.train_action = QAction("&Train a model…", self, shortcut=QKeySequence("Ctrl+T"))
        self.train_action.triggered.connect(self.training_dialog)
        model_menu.addAction(self.train_action)
        self.stop_action = QAction("&Stop the running job", self, shortcut=QKeySequence("Esc"))
        self.stop_action.triggered.connect(self.stop_jobs)
        model_menu.addAction(self.stop_action)
        self.view_menu = bar.addMenu("&View")
        for action in self.view_menu_actions:
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        self.tabs_menu = self.view_menu.addMenu("&Tabs")
        for action in self.tab_actions:
            self.tabs_menu.addAction(action)
        next_tab = QAction("&Next tab", self, shortcut=QKeySequence("Ctrl+PgDown"))
        next_tab.triggered.connect(
            lambda: self.tabs.setCurrentIndex((self.tabs.currentIndex() + 1) % self.tabs.count())
        )
        prev_tab = QAction("&Previous tab", self, shortcut=QKeySequence("Ctrl+PgUp"))
        prev_tab.triggered.connect(
            lambda: self.tabs.setCurrentIndex((self.tabs.currentIndex() - 1) % self.tabs.count())
        )
        self.view_menu.addActions([next_tab, prev_tab])
        help_menu = bar.addMenu("&Help")
        self.guide_action = QAction("&User guide", self, shortcut=QKeySequence("F1"))
        self.guide_action.triggered.connect(self.user_guide)
        self.shortcuts_action = QAction("&Keyboard shortcuts", self, shortcut=QKeySequence("Ctrl+/"))
        self.shortcuts_action.triggered.connect(self.shortcuts_dialog)
        about = QAction("&About cnnviz", self)
        about.triggered.connect(self._about)
        help_menu.addActions([self.guide_action, self.shortcuts_action])
        help_menu.addSeparator()
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.job_label = QLabel("Starting…")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        self.device_label = QLabel("Device: loading TensorFlow…")
        self.stop_button = QToolButton()
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("Stop the running job (Esc)")
        self.stop_button.clicked.connect(self.stop_jobs)
        self.stop_button.setVisible(False)
        sb.addWidget(self.job_label, 1)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.stop_button)
        sb.addPermanentWidget(self.device_label)

    # -- start-up -----------------------------------------------------------------------------------
    def start(self, model_path: str | None = None) -> None:
        """Import TensorFlow on the compute thread, then open ``model_path``, the last session (a
        preference) or the default model."""
        self.job_label.setText("Loading TensorFlow…")
        self.progress.setVisible(True)
        device, threads = self.preferences.device, self.preferences.threads
        self.bridge.submit(
            lambda progress, cancelled: configure_tensorflow(device, threads),
            kind="startup",
            label="Loading TensorFlow",
            on_result=self._on_device,
            on_error=lambda err: self._on_device("CPU (TensorFlow failed to start)"),
        )
        # the bundled digits are read off the GUI thread
        self.bridge.submit(warm_bundled_mnist, kind="startup-data", label="Reading the bundled digits")
        if self.settings_problem:
            self.show_message("Settings reset", self.settings_problem)
        if model_path is None and self._should_restore_last() and self.sessions.restore_last():
            return
        self.open_path(model_path or str(default_model_path()))

    def _should_restore_last(self) -> bool:
        from cnnviz_gui.core.session import last_session_path

        policy = self.preferences.restore_session
        if policy == "never" or not last_session_path().is_file():
            return False
        return policy == "restore" or self.ask_question(
            self, "Restore last session?", "Restore the model, layer and input you had open last time?"
        )

    def _on_device(self, device: str) -> None:
        self.device = device
        self.device_label.setText(f"Device: {device}")

    # -- opening models -------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.recent_files()[0]).parent) if self.recent_files() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open Keras model", start, MODEL_FILTER)
        if path:
            self.open_model_file(path)

    def open_model_file(self, path: str, allow_unsafe: bool = False, then=None, otherwise=None) -> None:
        """Open a model on the compute thread; on refusal explain it and keep the current model.

        ``then(loaded)`` runs after the model is open (a session restores its selection with it);
        ``otherwise()`` after the person was told why it could not be opened."""
        path = str(path)
        self._open_started = time.monotonic()
        self.job_label.setText(f"Opening {Path(path).name}…")
        self.progress.setVisible(True)

        def job(progress, cancelled):
            return open_model(path, allow_unsafe=allow_unsafe)

        self.bridge.submit(
            job,
            kind="open",
            label=f"Opening {Path(path).name}",
            on_result=lambda loaded: self._on_model_opened(path, loaded, then),
            on_error=lambda err: self._on_open_failed(path, err, allow_unsafe, then, otherwise),
        )

    def _on_model_opened(self, path: str, loaded: LoadedModel, then=None) -> None:
        self._remember(path)
        replaced = self.state.loaded is not None
        self.state.set_model(loaded)
        if replaced:  # free the previous model now (Keras models are reference cycles), on this thread
            release_unused_when_idle(lambda: self.bridge.compute.busy)
        self.statusBar().showMessage(
            f"Opened {loaded.info.name} in {time.monotonic() - self._open_started:.1f} s", 5000
        )
        if then is not None:
            then(loaded)

    def _on_open_failed(self, path: str, err: JobError, was_unsafe: bool, then=None, otherwise=None) -> None:
        exc = err.exception
        if isinstance(exc, ModelLoadError) and exc.needs_consent and not was_unsafe:
            if self.ask_consent(self, exc):
                self.open_model_file(path, allow_unsafe=True, then=then, otherwise=otherwise)
                return
            self.show_message(
                "Model not opened", f"{Path(path).name} was not opened; nothing from it was run."
            )
        elif isinstance(exc, ModelLoadError):
            details = ""
            if exc.summary is not None and exc.summary.layers:
                details = (
                    "What the file contains (read without building the model):\n" + exc.summary.format_text()
                )
            self.show_message("Cannot open model", exc.message, details)
        else:
            self.show_message("Cannot open model", err.message, err.details)
        if otherwise is not None:
            otherwise()

    def show_message(self, title: str, text: str, details: str = "") -> None:
        """Tell the person something went wrong; the app and the open model stay as they were."""
        self.last_message = (title, text)
        self.statusBar().showMessage(text.splitlines()[0][:200], 10000)
        self._update_idle_label()
        self.show_message_box(self, title, text, details)

    def _on_model_changed(self, loaded: LoadedModel) -> None:
        self.setWindowTitle(f"cnnviz — {loaded.info.name} ({Path(loaded.info.path).name})")
        if self.state.input_image is None and loaded.info.image_input:
            QTimer.singleShot(0, self._set_default_input)

    def _set_default_input(self) -> None:
        if self.state.input_image is not None:
            return
        self.input_panel.select_sample(0)
        # the maps of the first sample, unless the person went to another tab while the model opened
        if self.tabs.currentWidget() is self.summary_view:
            self.tabs.setCurrentWidget(self.activation_view)

    # -- recent files ---------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if isinstance(v, str)]

    def _remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        items = [p for p in self.recent_files() if p != path]
        items.insert(0, path)
        self.settings.setValue("recent_files", items[:MAX_RECENT])
        self.model_panel.set_recent(items[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent_files()
        for p, label in zip(paths, recent_labels(paths), strict=True):
            action = self.recent_menu.addAction(label)
            action.setToolTip(p)
            action.triggered.connect(lambda checked=False, p=p: self.open_model_file(p))
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none)").setEnabled(False)

    # -- drag & drop ------------------------------------------------------------------------------------
    def _dropped_path(self, event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        for url in urls:
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:
        path = self._dropped_path(event)
        suffix_ok = path and (Path(path).suffix.lower() in MODEL_SUFFIXES or path.endswith(SESSION_SUFFIX))
        if path and (suffix_ok or Path(path).is_dir()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        path = self._dropped_path(event)
        if path:
            event.acceptProposedAction()
            self.open_path(path)

    def open_path(self, path: str) -> None:
        """Open a session file (``*.cnnviz.json``) or a model."""
        if str(path).endswith(SESSION_SUFFIX):
            self.sessions.open(path)
        else:
            self.open_model_file(path)

    # -- export -----------------------------------------------------------------------------------------
    def active_view(self) -> QWidget | None:
        return self.tabs.currentWidget()

    def export_dialog(self) -> None:
        view = self.active_view()
        title = getattr(view, "title", "view")
        default = str(Path.home() / f"cnnviz-{title.lower().replace(' ', '-')}.png")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {title}", default, EXPORT_FILTER)
        if path:
            self.export_active_view(path)

    def export_active_view(self, path: str) -> Path | None:
        """Export the active view as a figure (.png/.svg/.pdf) or its raw arrays (.npz)."""
        view = self.active_view()
        title = getattr(view, "title", "This view")
        try:
            if Path(path).suffix.lower() == ".npz":
                arrays = view.export_arrays() if hasattr(view, "export_arrays") else None
                if not arrays:
                    self.show_message("Nothing to export", f"{title} has no arrays to export yet.")
                    return None
                written = figures.save_arrays(arrays, path)
            else:
                fig = view.export_figure() if hasattr(view, "export_figure") else None
                if fig is None:
                    self.show_message("Nothing to export", f"{title} has nothing to export yet.")
                    return None
                written = figures.save(fig, path)
        except figures.ExportError as err:
            self.show_message("Export failed", err.message)
            return None
        self.last_export = written
        self.statusBar().showMessage(f"Exported {title} to {written}", 8000)
        return written

    # -- status -------------------------------------------------------------------------------------
    def _on_compute_status(self, text: str) -> None:
        # a job is shown as busy only when it still runs 150 ms later: live forward passes (a few ms each)
        # would otherwise make the status bar flicker and re-layout on every stroke
        self._busy_text = text
        if text:
            QTimer.singleShot(150, self._show_busy)
        else:
            self._update_idle_label()

    _busy_text = ""

    def _show_busy(self) -> None:
        if self._busy_text and self.bridge.compute.busy:
            self.job_label.setText(self._busy_text + "…")
            self.progress.setVisible(True)
            self.stop_button.setVisible(True)

    def _update_idle_label(self) -> None:
        if self.bridge.compute.busy:
            return
        self.progress.setVisible(False)
        self.stop_button.setVisible(False)
        info = self.state.info
        self.job_label.setText(f"Ready — {info.name}" if info else "Ready")

    def stop_jobs(self) -> None:
        """Stop whatever runs or waits on the compute thread (Stop button, Esc); TensorFlow's start-up goes on."""
        if self.bridge.compute.busy:
            self.bridge.compute.cancel_all(keep=("startup", "startup-data"))
            self.statusBar().showMessage("Stopped", 3000)

    def _on_job_failed(self, label: str, err: JobError) -> None:
        self.show_message(f"{label} failed", err.message, err.details)

    def closeEvent(self, event) -> None:
        self.sessions.save_last()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        for dialog in self._dialogs.values():
            dialog.close()
        self.bridge.shutdown()
        super().closeEvent(event)
