"""The default autoencoder (AE) and variational autoencoder (VAE): builders and trainers.

Both are convolutional encoder/decoder pairs for small images with inputs and outputs in 0..1 (the decoder
ends in a sigmoid). Training runs a custom ``train_step`` (reconstruction loss, plus ``beta`` times the KL
term for the VAE, computed under one gradient tape and tracked as metrics). What is saved is a plain
functional model, never the training wrapper:

* AE: ``x -> encoder -> z -> decoder -> x'``; the encoder has one output ``z``.
* VAE: the encoder has three outputs ``[z_mean, z_log_var, z]`` (``z`` drawn by the registered
  :class:`~cnnviz_gui.core.models.custom_layers.Sampling` layer); the saved outer model reconstructs from ``z_mean``, so it
  is deterministic. The latent explorer uses ``z_mean``.

Why the VAE is trained as it is (measured on the bundled 10k digits, 2-D latent space; details in
``resources/models/README.md``): a shift of the whole latent cloud is nearly free (the decoder's first Dense
layer absorbs it; the KL term gains only |shift|^2 / 2 nats per image), so gradient descent centres the cloud
very slowly (~0.01 per epoch), and an off-centre cloud is squeezed along that axis (the KL term keeps
E[z_mean^2] + E[var] near 1), which puts prior samples off the data. A KL warm-up made it worse: while the
KL weight is small the encoder parks the cloud anywhere (z1 = -3.0 after the first epoch). So the VAE
trains without warm-up and, after every epoch, its latent space is moved exactly onto the origin
(:func:`recentre_vae`: reconstructions unchanged, KL lower), and the rest of training proceeds from there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist, split_shuffled

if TYPE_CHECKING:
    from cnnviz_gui.core.latent.prior_fit import PriorFit

ProgressFn = Callable[[float, str], None]
CancelledFn = Callable[[], bool]
KINDS = ("ae", "vae")
#: default epochs per kind (what the bundled AE and VAE were trained with)
DEFAULT_EPOCHS = {"ae": 15, "vae": 20}


def build_encoder(input_shape=(28, 28, 1), latent_dim: int = 2, variational: bool = False):
    """Two stride-2 convolutions, a small dense layer, then ``z`` (AE) or ``z_mean, z_log_var, z`` (VAE)."""
    import keras
    from keras import layers

    from cnnviz_gui.core.models.custom_layers import Sampling

    h_in, w_in = input_shape[:2]
    if h_in % 4 or w_in % 4:
        raise ValueError(f"the image height and width must be multiples of 4, got {h_in}x{w_in}")
    inputs = keras.Input(shape=input_shape, name="encoder_input")
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="Conv2D_1")(inputs)
    h = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="Conv2D_2")(h)
    h = layers.Flatten(name="Flatten")(h)
    h = layers.Dense(32, activation="relu", name="Dense_1")(h)
    if not variational:
        z = layers.Dense(latent_dim, name="z")(h)
        return keras.Model(inputs, z, name="encoder")
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    z = Sampling(name="z")([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def build_decoder(latent_dim: int = 2, output_shape=(28, 28, 1)):
    """Dense to a (H/4, W/4, 64) block, two stride-2 transposed convolutions, a sigmoid convolution."""
    import keras
    from keras import layers

    h_out, w_out, channels = output_shape
    inputs = keras.Input(shape=(latent_dim,), name="decoder_input")
    h = layers.Dense((h_out // 4) * (w_out // 4) * 64, activation="relu", name="Dense_1")(inputs)
    h = layers.Reshape((h_out // 4, w_out // 4, 64), name="Reshape")(h)
    h = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu", name="ConvT_1")(h)
    h = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu", name="ConvT_2")(h)
    out = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="decoded")(h)
    return keras.Model(inputs, out, name="decoder")


def build_autoencoder(
    kind: str = "ae", input_shape=(28, 28, 1), latent_dim: int = 2, name: str | None = None
):
    """The saved form: one functional model whose layers include the sub-models ``encoder`` and ``decoder``."""
    import keras

    if kind not in KINDS:
        raise ValueError(f"unknown autoencoder kind {kind!r}; expected one of {KINDS}")
    encoder = build_encoder(input_shape, latent_dim, variational=kind == "vae")
    decoder = build_decoder(latent_dim, input_shape)
    x = keras.Input(shape=input_shape, name="image")
    z = encoder(x)
    out = decoder(z[0] if kind == "vae" else z)
    return keras.Model(x, out, name=name or f"mnist_{kind}")


def _make_trainer(encoder, decoder, variational: bool, beta: float, warmup_steps: int = 0):
    """The training wrapper (never saved): reconstruction + ``beta`` * KL under one gradient tape.

    The KL weight rises linearly from 0 to ``beta`` over the first ``warmup_steps`` optimiser steps (KL
    warm-up; off by default: for the 2-D VAE it let the latent cloud drift off the origin, see the module notes).
    """
    import keras
    import tensorflow as tf

    class AutoencoderTrainer(keras.Model):
        def __init__(self):
            super().__init__(name="autoencoder_trainer")
            self.encoder, self.decoder = encoder, decoder
            self.variational, self.beta = variational, float(beta)
            self.warmup_steps = int(warmup_steps)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.rec_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.kl_tracker = keras.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [self.loss_tracker, self.rec_tracker] + ([self.kl_tracker] if self.variational else [])

        def call(self, x, training=False):
            z = self.encoder(x, training=training)
            return self.decoder(z[0] if self.variational else z, training=training)

        def _compute_losses(self, x, training):
            if self.variational:
                z_mean, z_log_var, z = self.encoder(x, training=training)
                recon = self.decoder(z, training=training)
                kl = -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=1)
                kl = tf.reduce_mean(kl)
            else:
                recon = self.decoder(self.encoder(x, training=training), training=training)
                kl = tf.constant(0.0)
            # per image: summed binary cross-entropy over all pixels, then the batch mean
            rec = tf.reduce_mean(tf.reduce_sum(keras.losses.binary_crossentropy(x, recon), axis=(1, 2)))
            if self.warmup_steps > 0 and training:
                step = tf.cast(self.optimizer.iterations, tf.float32)
                weight = self.beta * tf.minimum(1.0, step / float(self.warmup_steps))
            else:
                weight = self.beta
            return rec + weight * kl, rec, kl

        def _update_metrics(self, total, rec, kl):
            self.loss_tracker.update_state(total)
            self.rec_tracker.update_state(rec)
            if self.variational:
                self.kl_tracker.update_state(kl)
            return {m.name: m.result() for m in self.metrics}

        def train_step(self, data):
            x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
            with tf.GradientTape() as tape:
                total, rec, kl = self._compute_losses(x, training=True)
            weights = self.trainable_weights
            grads = tape.gradient(total, weights)
            self.optimizer.apply_gradients(zip(grads, weights, strict=True))
            return self._update_metrics(total, rec, kl)

        def test_step(self, data):
            x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
            return self._update_metrics(*self._compute_losses(x, training=False))

    return AutoencoderTrainer()


@dataclass
class AutoencoderTrainResult:
    """What a training run produced; ``test_losses`` are on the held-out images.

    ``prior_fit`` measures the encoded dataset against the prior N(0, I) (centre, r99, share of prior samples
    on the data; see :class:`~cnnviz_gui.core.latent.prior_fit.PriorFit`); ``recentre_shifts`` (VAE) holds,
    per epoch, the mean of ``z_mean`` over the training images that the epoch left and
    :func:`recentre_vae` then removed (small late shifts: the centre had settled).
    """

    path: Path | None
    kind: str
    latent_dim: int
    beta: float
    history: dict[str, list[float]] = field(default_factory=dict)
    test_losses: dict[str, float] = field(default_factory=dict)
    extent: np.ndarray | None = None  # (latent_dim, 2): 1st and 99th percentile per axis
    r99: float | None = None
    cancelled: bool = False
    model: object | None = None
    prior_fit: PriorFit | None = None
    recentre_shifts: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> dict:
        """The figures a person checks after training, as plain values (for a dialog or a log)."""
        out = {"kind": self.kind, "latent_dim": self.latent_dim, "seconds": round(self.seconds, 1)}
        if self.prior_fit is not None:
            out.update(self.prior_fit.to_dict())
        if self.kind == "vae":
            out["recentre_shifts"] = [list(s) for s in self.recentre_shifts]
        return out


def _encode_means(encoder, x: np.ndarray, variational: bool, batch: int = 500) -> np.ndarray:
    """Latent points of ``x`` (``z_mean`` for a VAE) by direct batched calls, not ``model.predict``."""
    return _encode(encoder, x, variational, batch)[0]


def _encode(encoder, x: np.ndarray, variational: bool, batch: int = 500):
    """(``z`` or ``z_mean``, ``z_log_var`` or ``None``) of ``x`` by direct batched calls."""
    means, log_vars = [], []
    for i in range(0, len(x), batch):
        out = encoder(x[i : i + batch], training=False)
        means.append(np.asarray(out[0] if variational else out))
        if variational:
            log_vars.append(np.asarray(out[1]))
    if not means:
        return np.zeros((0, encoder.outputs[0].shape[-1]), np.float32), None
    return np.concatenate(means), (np.concatenate(log_vars) if log_vars else None)


def recentre_vae(encoder, decoder, shift: np.ndarray) -> bool:
    """Move a VAE's latent space by ``-shift`` exactly: reconstructions unchanged, KL lower by |shift|^2 / 2.

    ``z_mean``'s bias loses ``shift``; the decoder's first Dense layer (which reads the latent point directly)
    gains ``shift @ kernel`` in its bias, so it computes the same from the moved point. Returns ``False`` and
    changes nothing when the layers are not of that form (a custom encoder or decoder).
    """
    import keras

    shift = np.asarray(shift, np.float32).ravel()
    if not np.all(np.isfinite(shift)):  # a diverged run: leave it as it is
        return False
    try:
        z_mean = encoder.get_layer("z_mean")
    except ValueError:
        return False
    first = [layer for layer in decoder.layers if not isinstance(layer, keras.layers.InputLayer)]
    first = first[0] if first else None
    if not (
        isinstance(z_mean, keras.layers.Dense)
        and isinstance(first, keras.layers.Dense)
        and z_mean.use_bias
        and first.use_bias
        and first.kernel.shape[0] == len(shift)
    ):
        return False
    kernel, bias = z_mean.get_weights()
    z_mean.set_weights([kernel, bias - shift])
    kernel, bias = first.get_weights()
    first.set_weights([kernel, bias + shift @ kernel])
    return True


def _recentre_callback(encoder, decoder, x: np.ndarray):
    """A Keras callback that moves the VAE's latent space onto the origin after every epoch (exactly, see
    :func:`recentre_vae`), so the rest of training proceeds from a centred cloud; it records each shift."""
    import keras

    class _Recentre(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.shifts: list[list[float]] = []

        def on_epoch_end(self, epoch, logs=None):
            centre = _encode_means(encoder, x, True).astype(np.float64).mean(axis=0)
            if recentre_vae(encoder, decoder, centre):
                self.shifts.append([float(c) for c in centre])

    return _Recentre()


def train_autoencoder(
    out: str | os.PathLike | None,
    kind: str = "ae",
    epochs: int | None = None,
    latent_dim: int = 2,
    beta: float = 1.0,
    dataset: Dataset | None = None,
    n_train: int = 9000,
    batch_size: int = 64,
    warmup_epochs: float = 0.0,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
    recentre: bool = True,
) -> AutoencoderTrainResult:
    """Train the default AE or VAE on images in 0..1; save the plain functional model to ``out``.

    ``n_train`` images (shuffled with ``seed``) train it, the rest give ``test_losses``. ``epochs`` defaults
    to :data:`DEFAULT_EPOCHS` of the kind. The VAE's KL weight warms up from 0 to ``beta`` over the first
    ``warmup_epochs`` epochs (default none: a warm-up lets the latent cloud drift off the origin, see the
    module notes); with ``recentre`` its latent space is then moved exactly onto the origin
    (:func:`recentre_vae`, over the training images). The latent extent and the fit to the prior
    (``prior_fit``) are measured on the whole dataset (``z_mean`` for the VAE).
    """
    import time

    import keras

    from cnnviz_gui.core.latent.prior_fit import prior_fit
    from cnnviz_gui.core.latent.space import latent_statistics
    from cnnviz_gui.core.training.cnn import atomic_save_model, progress_callback

    if kind not in KINDS:
        raise ValueError(f"unknown autoencoder kind {kind!r}; expected one of {KINDS}")
    if latent_dim < 1:
        raise ValueError(f"the latent dimension must be at least 1, got {latent_dim}")
    if beta < 0:
        raise ValueError(f"beta must not be negative, got {beta}")
    epochs = int(epochs or DEFAULT_EPOCHS[kind])
    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    ds = dataset or load_bundled_mnist()
    train, test = split_shuffled(ds, min(n_train, len(ds)), seed=seed)
    model = build_autoencoder(kind, ds.x.shape[1:], latent_dim)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    steps = int(np.ceil(len(train) / batch_size))
    trainer = _make_trainer(encoder, decoder, kind == "vae", beta, int(warmup_epochs * steps))
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate))
    variational = kind == "vae"
    callbacks = [progress_callback(epochs, steps, progress, cancelled)]
    recentring = (
        _recentre_callback(encoder, decoder, train.x) if variational and recentre and len(train) else None
    )
    if recentring is not None:
        callbacks.append(recentring)
    hist = trainer.fit(
        train.x, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0, callbacks=callbacks
    )
    was_cancelled = bool(cancelled and cancelled())
    test_losses = {}
    if len(test):
        test_losses = {
            k: float(v)
            for k, v in trainer.evaluate(test.x, batch_size=256, verbose=0, return_dict=True).items()
        }
    z, z_log_var = _encode(encoder, ds.x, variational)
    stats = latent_statistics(z, ds.y)
    fit = prior_fit(z, z_log_var, seed=seed) if len(z) >= 2 else None
    path = None
    if out is not None and not was_cancelled:
        path = atomic_save_model(model, out)
    return AutoencoderTrainResult(
        path,
        kind,
        latent_dim,
        beta,
        {k: [float(v) for v in vs] for k, vs in hist.history.items()},
        test_losses,
        stats.extent,
        stats.r99,
        was_cancelled,
        model,
        fit,
        recentring.shifts if recentring is not None else [],
        time.perf_counter() - started,
    )
