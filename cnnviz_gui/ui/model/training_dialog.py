"""Model > Train…: train the default CNN, AE or VAE on any dataset source, with live curves and Stop.

Training runs in the compute process (as every TensorFlow call does) and the dialog stays responsive; the
finished model is saved where the person chose (atomically: Stop leaves an existing file untouched) and
opened in the window.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.datasets import dataset_sources
from cnnviz_gui.core.latent.prior_fit import PriorFit
from cnnviz_gui.core.runtime.jobs import JobError
from cnnviz_gui.core.training.jobs import KINDS, TrainingOutcome, TrainingRequest

CURVE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")
#: the latent report's background: converged VAE, VAE not (yet) on its prior, plain AE (no prior to reach)
REPORT_STYLES = {
    "converged": "background: #e3f4e1; border: 1px solid #7bbf72; padding: 4px",
    "not converged": "background: #fdf0d8; border: 1px solid #e0a43a; padding: 4px",
    "ae": "background: #eef1f5; border: 1px solid #a9b4c2; padding: 4px",
}


def display_path(path: str | Path) -> str:
    """A path for people: the home folder shortened to ``~``."""
    path, home = Path(path).expanduser(), Path.home()
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class LiveCurves(pg.PlotWidget):
    """Running loss/metric values against (fractional) epochs, one curve per logged quantity."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setTitle(title, color="k", size="10pt")
        self.setLabel("bottom", "epoch")
        self.showGrid(x=True, y=True, alpha=0.3)
        self.addLegend(offset=(-10, 10))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.data: dict[str, tuple[list[float], list[float]]] = {}

    def reset(self, names: list[str]) -> None:
        self.clear()
        self.curves.clear()
        self.data = {n: ([], []) for n in names}
        for i, name in enumerate(names):
            pen = pg.mkPen(CURVE_COLOURS[i % len(CURVE_COLOURS)], width=2)
            self.curves[name] = self.plot([], [], pen=pen, name=name)

    def add(self, epoch: float, logs: dict[str, float]) -> None:
        for name, curve in self.curves.items():
            if name in logs:
                xs, ys = self.data[name]
                xs.append(epoch)
                ys.append(logs[name])
                curve.setData(xs, ys)


class TrainingDialog(QDialog):
    """Choose what to train, watch it train, stop it; the result opens in the main window.

    ``bridge`` runs the training; ``open_model(path)`` opens the trained file (the window's model opener).
    """

    def __init__(self, bridge, open_model, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge, self.open_model = bridge, open_model
        self.setWindowTitle("Train a model")
        self.job = None
        self._active = False
        self.outcome: TrainingOutcome | None = None
        self.error: str | None = None
        self._started = 0.0
        self._default_out = ""
        self._build()
        self._on_kind_changed()

    # -- layout ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QFormLayout()
        self.kind_box = QComboBox()
        for key, label in KINDS.items():
            self.kind_box.addItem(label, key)
        self.kind_box.currentIndexChanged.connect(self._on_kind_changed)
        form.addRow("Model:", self.kind_box)

        self.dataset_box = QComboBox()
        self.dataset_box.setMinimumContentsLength(28)
        for key, label in dataset_sources():
            self.dataset_box.addItem(label, key)
        file_button = QPushButton("File…")
        file_button.setToolTip("IDX images file (labels beside it) or an .npz with x and y")
        file_button.clicked.connect(self._choose_dataset_file)
        folder_button = QPushButton("Folder…")
        folder_button.setToolTip("A folder of IDX files, or one sub-folder of images per class")
        folder_button.clicked.connect(self._choose_dataset_folder)
        row = QHBoxLayout()
        row.addWidget(self.dataset_box, 1)
        row.addWidget(file_button)
        row.addWidget(folder_button)
        form.addRow("Dataset:", row)

        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(0, 10_000_000)
        self.samples_spin.setSingleStep(500)
        self.samples_spin.setSpecialValueText("all")
        self.samples_spin.setToolTip("Use a random subset of this many samples (90 % train, 10 % held out)")
        form.addRow("Samples:", self.samples_spin)

        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(5)
        form.addRow("Epochs:", self.epochs_spin)

        self.latent_spin = QSpinBox()
        self.latent_spin.setRange(1, 512)
        self.latent_spin.setValue(2)
        self.latent_label = QLabel("Latent dimension:")
        form.addRow(self.latent_label, self.latent_spin)

        self.beta_spin = QDoubleSpinBox()
        self.beta_spin.setRange(0.0, 100.0)
        self.beta_spin.setDecimals(3)
        self.beta_spin.setSingleStep(0.1)
        self.beta_spin.setValue(1.0)
        self.beta_spin.setToolTip("Weight of the KL term: small values make the VAE behave like an AE")
        self.beta_label = QLabel("β (KL weight):")
        form.addRow(self.beta_label, self.beta_spin)

        self.out_edit = QLineEdit()
        out_button = QPushButton("Browse…")
        out_button.clicked.connect(self._choose_output)
        row = QHBoxLayout()
        row.addWidget(self.out_edit, 1)
        row.addWidget(out_button)
        form.addRow("Save as:", row)
        settings_box = QGroupBox("What to train")
        settings_box.setLayout(form)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFormat("%p%")
        self.status_label = QLabel("Choose what to train, then press Start.")
        self.status_label.setWordWrap(True)
        self.eta_label = QLabel("")
        #: AE/VAE, after training: the latent space against the prior N(0, I) and the verdict
        self.latent_label = QLabel("")
        self.latent_label.setWordWrap(True)
        self.latent_label.setVisible(False)
        self.loss_plot = LiveCurves("Loss (running mean per epoch)")
        self.metric_plot = LiveCurves("Metric")
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.metric_plot)

        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.eta_label, 1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(settings_box)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.latent_label)
        layout.addLayout(plots, 1)
        layout.addLayout(buttons)
        self.resize(820, 720)

    def _on_kind_changed(self, *_):
        kind = self.kind_box.currentData()
        for w in (self.latent_spin, self.latent_label):
            w.setEnabled(kind != "cnn")
        for w in (self.beta_spin, self.beta_label):
            w.setEnabled(kind == "vae")
        if self.out_edit.text() in ("", self._default_out):  # follow the kind until the person edits it
            self._default_out = f"~/cnnviz_{kind}.keras"
            self.out_edit.setText(self._default_out)
        self._reset_curves(kind)

    def _reset_curves(self, kind: str) -> None:
        names = self._curve_names(kind)
        self.loss_plot.reset(names[0])
        self.metric_plot.reset(names[1])
        self.metric_plot.setTitle(
            {"cnn": "Accuracy", "ae": "Reconstruction loss", "vae": "KL term"}[kind], color="k", size="10pt"
        )

    @staticmethod
    def _curve_names(kind: str) -> tuple[list[str], list[str]]:
        if kind == "cnn":
            return ["loss"], ["accuracy"]
        if kind == "ae":
            return ["loss"], ["reconstruction_loss"]
        return ["loss", "reconstruction_loss"], ["kl_loss"]

    # -- choosers -------------------------------------------------------------------------------------
    def set_dataset_path(self, path: str) -> None:
        index = self.dataset_box.findData(path)
        if index < 0:
            self.dataset_box.addItem(Path(path).name or path, path)
            index = self.dataset_box.count() - 1
            self.dataset_box.setItemData(index, path, 3)  # tooltip role
        self.dataset_box.setCurrentIndex(index)

    def _choose_dataset_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Dataset file", "", "Datasets (*.npz *idx* *.ubyte *.gz);;All files (*)"
        )
        if path:
            self.set_dataset_path(path)

    def _choose_dataset_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder")
        if path:
            self.set_dataset_path(path)

    def _choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the trained model as",
            str(Path(self.out_edit.text()).expanduser()),
            "Keras model (*.keras)",
        )
        if path:
            self.out_edit.setText(path if path.endswith(".keras") else path + ".keras")

    # -- running --------------------------------------------------------------------------------------
    def request(self) -> TrainingRequest:
        return TrainingRequest(
            kind=self.kind_box.currentData(),
            dataset=str(self.dataset_box.currentData()),
            out=str(Path(self.out_edit.text().strip()).expanduser()),
            epochs=self.epochs_spin.value(),
            latent_dim=self.latent_spin.value(),
            beta=self.beta_spin.value(),
            max_samples=self.samples_spin.value(),
        )

    @property
    def running(self) -> bool:
        return self._active

    def start(self) -> None:
        if self.running:
            return
        req = self.request()
        try:
            req.check()
            if not Path(req.out).parent.is_dir():
                raise ValueError(f"The folder {Path(req.out).parent} does not exist.")
        except ValueError as err:
            self._finish_with_message(str(err))
            return
        self.outcome, self.error = None, None
        self._existed = Path(req.out).exists()
        self._out_shown = display_path(req.out)
        self._reset_curves(req.kind)
        self.progress_bar.setValue(0)
        self.status_label.setText(f"Loading {self.dataset_box.currentText()}…")
        self.eta_label.setText("")
        self.latent_label.setVisible(False)
        self._set_running(True)
        self._started = time.monotonic()
        self._active = True
        self.job = self.bridge.request(
            "training.run",
            {"request": req},
            kind="training",
            label=f"Training {KINDS[req.kind]}",
            on_result=self._on_done,
            on_error=self._on_error,
            on_progress=self._on_progress,
            on_stopped=lambda _partial: self._on_cancelled(),
        )
        if not self._active:  # a synchronous compute (tests) has finished already
            self.job = None

    def stop(self) -> None:
        """Stop after the current batch; the output file stays as it was."""
        if self.job is not None:
            self.bridge.stop(self.job)
            self.status_label.setText("Stopping after the current batch…")
            self.stop_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (self.kind_box, self.dataset_box, self.samples_spin, self.epochs_spin, self.out_edit):
            w.setEnabled(not running)
        if not running:
            self._on_kind_changed_enable_only()
        else:
            self.latent_spin.setEnabled(False)
            self.beta_spin.setEnabled(False)

    def _on_kind_changed_enable_only(self) -> None:
        kind = self.kind_box.currentData()
        self.latent_spin.setEnabled(kind != "cnn")
        self.beta_spin.setEnabled(kind == "vae")

    def _on_progress(self, fraction: float, text: str, payload) -> None:
        if not self._active or (self.job is not None and self.job.cancelled):
            return
        self.progress_bar.setValue(int(round(fraction * 1000)))
        self.status_label.setText(text)
        elapsed = time.monotonic() - self._started
        if fraction > 0.005:
            remaining = elapsed / fraction * (1.0 - fraction)
            self.eta_label.setText(
                f"elapsed {format_duration(elapsed)} · about {format_duration(remaining)} left"
            )
        if isinstance(payload, dict) and "logs" in payload:
            self.loss_plot.add(payload["epoch"], payload["logs"])
            self.metric_plot.add(payload["epoch"], payload["logs"])

    def _on_done(self, outcome: TrainingOutcome) -> None:
        self.job = None
        self._active = False
        self.outcome = outcome
        self._set_running(False)
        elapsed = format_duration(time.monotonic() - self._started)
        if outcome.cancelled or outcome.path is None:
            self._on_cancelled()
            return
        self.progress_bar.setValue(1000)
        self.eta_label.setText(f"took {elapsed}")
        self.status_label.setText(
            f"Done: trained on {outcome.n_samples} samples of {outcome.dataset}; {outcome.summary()}. "
            f"Saved to {display_path(outcome.path)} and opened."
        )
        self.show_latent_report(outcome)
        self.open_model(outcome.path)

    def show_latent_report(self, outcome: TrainingOutcome) -> None:
        """AE/VAE: centre, r99 and prior samples on the data over the dataset, and whether a VAE converged
        onto its prior (centred, covering it); nothing for a CNN."""
        summary, fit = outcome.latent_summary(), PriorFit.from_dict(outcome.latent)
        if not summary or fit is None:
            self.latent_label.setVisible(False)
            return
        kind = str(outcome.latent.get("kind", "vae"))
        if kind == "vae":
            style = "converged" if fit.converged else "not converged"
            head = "Converged onto the prior" if style == "converged" else "Not converged onto the prior"
        else:
            style, head = "ae", "Plain autoencoder"
        self.latent_label.setStyleSheet(REPORT_STYLES[style])
        self.latent_label.setText(
            f"<b>{head}.</b> Over the {fit.n_points:,} samples: {html.escape(summary)}."
            f"<br>{html.escape(fit.judgement(kind, 'train for more epochs'))}."
        )
        self.latent_label.setVisible(True)

    def _on_cancelled(self) -> None:
        self.job = None
        self._active = False
        self._set_running(False)
        kept = "the previous file is kept unchanged" if self._existed else "nothing was saved"
        self.status_label.setText(f"Stopped: {kept} ({self._out_shown}).")

    def _on_error(self, err: JobError) -> None:
        self.job = None
        self._active = False
        self._set_running(False)
        self.error = err.message
        self._finish_with_message(err.message)

    def _finish_with_message(self, text: str) -> None:
        self.status_label.setText(f"Not trained: {text}")

    def reject(self) -> None:
        """Close (Esc, the window's close button, Close): a running training stops; the file is kept."""
        self.stop()
        super().reject()
