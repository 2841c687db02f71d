"""The compiled ascent step of an OIP search, for every preset: one ``tf.function`` per (target, settings,
redirect) that moves all maps x restarts x diversity images of a layer by one step.

What is optimised (``settings.param``): "pixel", a standardised image, moved by the unit-RMS gradient (the
articles) or Adam and re-standardised after every step; or "fourier", a 1/f-scaled spectrum whose display
image comes from :func:`cnnviz_gui.core.oip.parameterisation.spectrum_to_display`, moved by Adam (Lucid).
The objective (:meth:`Stepper.objective`) is the target's value for each image's map, under random
transformations when ``settings.transforms`` is on, minus a diversity penalty when K > 1 images per map are
optimised together: the cosine similarity of the K images' Gram matrices at the target layer (as in Lucid),
weighted relative to the group's mean objective so the same weight means the same for every network.
"""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.oip import parameterisation as fourier
from cnnviz_gui.core.oip.transforms import amounts_for, random_transform


class Stepper:
    """Builds and caches the compiled steps of one search; holds what the state means."""

    def __init__(self, target, settings):
        import tensorflow as tf

        self.tf, self.target, self.s = tf, target, settings
        self.shape = target.info.input_shape
        self.fourier = settings.param == "fourier"
        h, w, _ = self.shape
        self.scale = fourier.frequency_scale(h, w, settings.fourier_decay) if self.fourier else None
        self.amounts = amounts_for(max(h, w)) if settings.transforms else None
        self._fns: dict = {}
        self._display_fn = None
        self._eval_fn = None

    # -- state <-> images -----------------------------------------------------------------------------------
    def start_state(self, seeds, pixel_start=None) -> np.ndarray:
        """The start of every sample: ``pixel_start`` (standardised images) for the pixel parameterisation,
        seeded random spectra for Fourier."""
        if self.fourier:
            return fourier.random_spectra(self.shape, seeds)
        return np.asarray(pixel_start, np.float32)

    def images(self, state) -> np.ndarray:
        """Images in the target's space (standardised for pixels, display 0..1 for Fourier) of a state."""
        if not self.fourier:
            return np.asarray(state, np.float32)
        if self._display_fn is None:
            shape, scale = self.shape, self.scale
            self._display_fn = self.tf.function(
                lambda p: fourier.spectrum_to_display(p, shape, scale), reduce_retracing=True, autograph=False
            )
        return self._display_fn(self.tf.convert_to_tensor(state)).numpy()

    def space_images(self, p):
        """Inside a tf.function: the images the target sees for the state ``p``."""
        if self.fourier:
            return fourier.spectrum_to_display(p, self.shape, self.scale)
        return p

    # -- the objective ---------------------------------------------------------------------------------------
    def objective(self, images, idx, redirect: bool, seed=None):
        """(per-sample objective (B,), total to ascend) for a batch of images in the target's space; ``seed``
        (int32 (2,)) makes the random transformations reproducible."""
        tf, s, target = self.tf, self.s, self.target
        xin = images
        if self.amounts is not None:
            xin = random_transform(xin, self.amounts, seed)
        if s.jitter > 0:
            if seed is None:
                sh = tf.random.uniform([2], -s.jitter, s.jitter + 1, dtype=tf.int32)
            else:
                sh = tf.random.stateless_uniform([2], seed + 104729, -s.jitter, s.jitter + 1, dtype=tf.int32)
            xin = tf.roll(xin, sh, axis=[1, 2])
        out = target.layer_output(xin, redirect)
        per = target.reduce(out, s.objective)
        loss_b = tf.reduce_sum(per * tf.one_hot(idx, target.info.n_units, dtype=per.dtype), axis=1)
        total = tf.reduce_sum(loss_b)
        if s.diversity > 1:
            total -= s.diversity_weight * diversity_penalty(out, s.diversity, loss_b)
        return loss_b, total

    # -- the step -------------------------------------------------------------------------------------------
    def fn(self, redirect: bool):
        if redirect not in self._fns:
            self._fns[redirect] = self.tf.function(
                self._make(redirect), reduce_retracing=True, autograph=False
            )
        return self._fns[redirect]

    def _make(self, redirect: bool):
        tf, s = self.tf, self.s
        adam = s.optimizer == "adam"
        pixel = not self.fourier

        def step(x, m, v, t, idx, eps, active, seed):
            with tf.GradientTape() as tape:
                tape.watch(x)
                images = self.space_images(x)
                loss_b, total = self.objective(images, idx, redirect, seed)
                if s.tv_weight > 0:
                    tv = tf.reduce_mean(tf.abs(images[:, 1:] - images[:, :-1]), axis=[1, 2, 3])
                    tv += tf.reduce_mean(tf.abs(images[:, :, 1:] - images[:, :, :-1]), axis=[1, 2, 3])
                    total -= s.tv_weight * tf.reduce_sum(tv * (tf.stop_gradient(tf.abs(loss_b)) + 1.0))
            g = tape.gradient(total, x)
            if s.jitter > 0 and self.amounts is None:  # the loss of the image itself, not its shifted copy
                per = self.target.values(images, False, s.objective)
                loss_b = tf.reduce_sum(
                    per * tf.one_hot(idx, self.target.info.n_units, dtype=per.dtype), axis=1
                )
            axes = list(range(1, len(x.shape)))
            gzero = tf.reduce_all(tf.equal(g, 0.0), axis=axes)
            if adam:
                t1 = t + 1.0
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                upd = (m / (1 - 0.9**t1)) / (tf.sqrt(v / (1 - 0.999**t1)) + 1e-8)
            else:
                t1 = t
                upd = g / (tf.sqrt(tf.reduce_mean(g * g, axis=axes, keepdims=True)) + 1e-7)
            shape = [-1] + [1] * (len(x.shape) - 1)
            xn = x + tf.reshape(eps, shape) * upd
            if pixel:  # the articles: re-standardise after every step
                mean, var = tf.nn.moments(xn, axes=axes, keepdims=True)
                n = tf.cast(tf.reduce_prod(tf.shape(xn)[1:]), xn.dtype)
                xn = (xn - mean) / tf.maximum(tf.sqrt(var), 1.0 / tf.sqrt(n))
            keep = tf.reshape(active, shape)
            return tf.where(keep, xn, x), m, v, t1, loss_b, gzero

        return step

    # -- read-outs after the search ------------------------------------------------------------------------
    def evaluate(self, images: np.ndarray, idx: np.ndarray, batch: int | None = None) -> np.ndarray:
        """The objective (no transformations, no penalty) of images in the target's space, in batches
        (by default as many images as hold about 4 million input values, 8 to 256)."""
        tf, target, objective = self.tf, self.target, self.s.objective
        if batch is None:
            batch = int(np.clip(2**22 // max(1, int(np.prod(self.shape))), 8, 256))
        if self._eval_fn is None:
            n_units = target.info.n_units

            def value(x, i):
                per = target.values(x, False, objective)
                return tf.reduce_sum(per * tf.one_hot(i, n_units, dtype=per.dtype), axis=1)

            self._eval_fn = tf.function(value, reduce_retracing=True, autograph=False)
        out = [
            self._eval_fn(
                tf.constant(np.ascontiguousarray(images[k : k + batch], np.float32)),
                tf.constant(np.asarray(idx[k : k + batch], np.int32)),
            ).numpy()
            for k in range(0, len(images), batch)
        ]
        return np.concatenate(out) if out else np.zeros(0, np.float32)


def diversity_penalty(out, k: int, loss_b):
    """Sum over groups of K samples of the mean pairwise cosine similarity of their Gram matrices (maps) or
    activation vectors (units), each group weighted by its mean |objective| (no gradient through it)."""
    import tensorflow as tf

    if len(out.shape) == 4:
        c = int(out.shape[-1])
        flat = tf.reshape(out, [tf.shape(out)[0], -1, c])
        grams = tf.matmul(flat, flat, transpose_a=True)
        feats = tf.reshape(grams, [tf.shape(out)[0], c * c])
    else:
        feats = out
    feats = tf.math.l2_normalize(feats, axis=1, epsilon=1e-10)
    groups = tf.reshape(feats, [-1, k, int(feats.shape[-1])])
    sims = tf.matmul(groups, groups, transpose_b=True)  # (G, K, K)
    off = (tf.reduce_sum(sims, axis=[1, 2]) - tf.linalg.trace(sims)) / (k * (k - 1))
    weight = tf.stop_gradient(tf.reduce_mean(tf.abs(tf.reshape(loss_b, [-1, k])), axis=1)) + 1e-6
    return tf.reduce_sum(weight * off * k)
