"""The default models and their trainers (run on the compute thread)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnviz_gui.core.atomic import atomic_write
from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist, split_shuffled
from cnnviz_gui.core.preprocess import standardise

ProgressFn = Callable[[float, str], None]
CancelledFn = Callable[[], bool]


def build_cnn(input_shape=(28, 28, 1), n_classes: int = 10, dense_units: int = 70):
    """The reference CNN of the articles: three 3x3 conv layers (32/64/128 maps), two max-pools, dense."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="input")
    h = layers.Conv2D(32, 3, activation="relu", name="Conv2D_1")(inputs)
    h = layers.MaxPooling2D(2, name="MaxPool_1")(h)
    h = layers.Conv2D(64, 3, activation="relu", name="Conv2D_2")(h)
    h = layers.MaxPooling2D(2, name="MaxPool_2")(h)
    h = layers.Conv2D(128, 3, activation="relu", name="Conv2D_3")(h)
    h = layers.Flatten(name="Flatten")(h)
    h = layers.Dense(dense_units, activation="relu", name="Dense_1")(h)
    outputs = layers.Dense(n_classes, activation="softmax", name="Dense_out")(h)
    return keras.Model(inputs, outputs, name="mnist_cnn")


@dataclass
class TrainResult:
    path: Path | None
    history: dict[str, list[float]] = field(default_factory=dict)
    test_accuracy: float | None = None
    cancelled: bool = False


def atomic_save_model(model, path: str | os.PathLike) -> Path:
    """Save a Keras model to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, model.save)


def progress_callback(epochs: int, steps: int, progress: ProgressFn | None, cancelled: CancelledFn | None):
    """A Keras callback reporting batch progress and stopping when ``cancelled()`` turns true."""
    import keras

    with_payload = _accepts_payload(progress)

    class _Progress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.last = {}

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            self.last = logs
            if progress is not None:
                frac = (self.epoch + (batch + 1) / steps) / epochs
                text = " ".join(f"{k}={float(v):.4f}" for k, v in logs.items())
                if with_payload:  # live curves: the running means of this epoch
                    values = {k: float(v) for k, v in logs.items()}
                    epoch = self.epoch + (batch + 1) / steps
                    progress(
                        frac, f"epoch {self.epoch + 1}/{epochs} {text}", {"epoch": epoch, "logs": values}
                    )
                else:
                    progress(frac, f"epoch {self.epoch + 1}/{epochs} {text}")
            if cancelled is not None and cancelled():
                self.model.stop_training = True

    return _Progress()


def _accepts_payload(progress) -> bool:
    """Whether ``progress`` takes a third argument (the compute thread's does; a text bar does not)."""
    if progress is None:
        return False
    try:
        params = inspect.signature(progress).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = [p.kind for p in params]
    return inspect.Parameter.VAR_POSITIONAL in kinds or len(kinds) >= 3


def train_cnn(
    out: str | os.PathLike | None,
    epochs: int = 8,
    dataset: Dataset | None = None,
    n_train: int = 9000,
    batch_size: int = 64,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> TrainResult:
    """Train the reference CNN on per-image standardised digits; hold out the rest for testing."""
    import keras

    keras.utils.set_random_seed(seed)
    ds = dataset or load_bundled_mnist()
    train, test = split_shuffled(ds, n_train, seed=seed)
    xtr, xte = standardise(train.x), standardise(test.x)
    model = build_cnn(input_shape=ds.x.shape[1:], n_classes=len(ds.class_names))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    steps = int(np.ceil(len(xtr) / batch_size))
    cb = progress_callback(epochs, steps, progress, cancelled)
    hist = model.fit(xtr, train.y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[cb])
    was_cancelled = bool(cancelled and cancelled())
    acc = None
    if len(xte) and not was_cancelled:  # a cancelled run stops at once: no evaluation, nothing saved
        _, acc = model.evaluate(xte, test.y, batch_size=256, verbose=0)
    path = None
    if out is not None and not was_cancelled:
        path = atomic_save_model(model, out)
    return TrainResult(
        path, {k: [float(v) for v in vs] for k, vs in hist.history.items()}, acc, was_cancelled
    )
