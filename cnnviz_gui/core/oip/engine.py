"""OIP search: batched gradient ascent on the input for whole layers (the articles' algorithm and beyond).

Seed mode ("Seed (articles)", the default) is the articles' strategy 0, per map: loss = mean activation of
the map; gradient normalised to unit RMS; ``x += eps * g``; re-standardise the image; 600 steps; snapshots at
log-spaced steps; convergence = relative loss change below a threshold in several successive steps; a map
whose loss and gradient stay exactly 0 for more than 10 steps "does not react". All maps x restarts of a
layer run as one batch through one compiled step; the step loop stays in Python so that progress and Stop work
after every step. ``run_oip`` is a compute-thread job body: ``run_oip(loaded, request, progress, cancelled)``.
Settings, presets and result types live in :mod:`cnnviz_gui.core.oip.types` and are re-exported here.
The image optimised is always standardised; the model sees it in ``request.convention`` (see
:func:`cnnviz_gui.core.oip.target.input_affine`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from cnnviz_gui.core.oip import start_images as oip_init
from cnnviz_gui.core.oip.target import OipTarget, OipTargetError, data_active, input_affine
from cnnviz_gui.core.oip.types import (
    PRESETS,
    OipFrame,
    OipRequest,
    OipResult,
    OipSettings,
    log_spaced_steps,
    parse_maps,
    preset,
)

__all__ = [
    "PRESETS",
    "OipFrame",
    "OipRequest",
    "OipResult",
    "OipSettings",
    "OipTarget",
    "OipTargetError",
    "input_affine",
    "log_spaced_steps",
    "parse_maps",
    "preset",
    "run_oip",
]


class _Stepper:
    """Builds and caches the compiled ascent step for one target."""

    def __init__(self, target: OipTarget, settings: OipSettings):
        import tensorflow as tf

        self.target, self.s = target, settings
        self._fns: dict = {}
        self.tf = tf

    def fn(self, redirect: bool):
        if redirect not in self._fns:
            self._fns[redirect] = self.tf.function(self._make(redirect), reduce_retracing=True)
        return self._fns[redirect]

    def _make(self, redirect: bool):
        tf, s, target = self.tf, self.s, self.target
        adam = s.optimizer == "adam"
        n_units = target.info.n_units

        def step(x, m, v, t, idx, eps, active):
            with tf.GradientTape() as tape:
                tape.watch(x)
                xin = x
                if s.jitter > 0:
                    sh = tf.random.uniform([2], -s.jitter, s.jitter + 1, dtype=tf.int32)
                    xin = tf.roll(x, sh, axis=[1, 2])
                per = target.values(xin, redirect)
                loss_b = tf.reduce_sum(per * tf.one_hot(idx, n_units, dtype=per.dtype), axis=1)
                total = tf.reduce_sum(loss_b)
                if s.tv_weight > 0:
                    tv = tf.reduce_mean(tf.abs(x[:, 1:] - x[:, :-1]), axis=[1, 2, 3]) + tf.reduce_mean(
                        tf.abs(x[:, :, 1:] - x[:, :, :-1]), axis=[1, 2, 3]
                    )
                    total -= s.tv_weight * tf.reduce_sum(tv * (tf.stop_gradient(tf.abs(loss_b)) + 1.0))
            g = tape.gradient(total, x)
            if s.jitter > 0:  # report the loss of the image itself, not of its shifted copy
                loss_b = tf.reduce_sum(target.values(x) * tf.one_hot(idx, n_units, dtype=per.dtype), axis=1)
            gzero = tf.reduce_all(tf.equal(g, 0.0), axis=[1, 2, 3])
            if adam:
                t1 = t + 1.0
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                upd = (m / (1 - 0.9**t1)) / (tf.sqrt(v / (1 - 0.999**t1)) + 1e-8)
            else:
                t1 = t
                upd = g / (tf.sqrt(tf.reduce_mean(g * g, axis=[1, 2, 3], keepdims=True)) + 1e-7)
            xn = x + eps * upd
            mean, var = tf.nn.moments(xn, axes=[1, 2, 3], keepdims=True)
            n = tf.cast(tf.reduce_prod(tf.shape(xn)[1:]), xn.dtype)
            xn = (xn - mean) / tf.maximum(tf.sqrt(var), 1.0 / tf.sqrt(n))
            keep = tf.reshape(active, [-1, 1, 1, 1])
            return tf.where(keep, xn, x), m, v, t1, loss_b, gzero

        return step


def _device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return f"GPU ({gpus[0].name})" if gpus else "CPU"


def _start_images(s: OipSettings, shape, seeds) -> np.ndarray:
    n = len(seeds)
    if s.init == "fourier":
        return oip_init.fourier_images(n, shape, s.fourier_decay, seeds)
    if s.stages:  # strategy 1 starts with the longest scale only
        factors = [s.factors[0]] + [0.0] * (len(s.factors) - 1)
        return oip_init.multiscale_images(n, shape, s.grids, factors, seeds)
    return oip_init.multiscale_images(n, shape, s.grids, s.factors, seeds)


class _Run:
    """State of one batched search (maps x restarts)."""

    def __init__(self, request: OipRequest, target: OipTarget, progress, cancelled):
        self.r, self.s, self.target = request, request.settings, target
        self.progress, self.cancelled = progress, cancelled
        self.stepper = _Stepper(target, self.s)
        self.maps = np.asarray(request.maps, dtype=np.int32)
        self.R = int(self.s.restarts)
        self.idx = np.repeat(self.maps, self.R)  # sample b = map (b // R), restart (b % R)
        self.shape = target.info.input_shape
        self._last_emit = 0.0
        self._auto: int | None = None
        self.stopped = False

    def seeds(self, *extra) -> list[tuple[int, ...]]:
        """One seed per sample from (seed, map, restart, *extra): an image never depends on the others."""
        R = self.R
        return [(self.s.seed, int(m), b % R, *extra) for b, m in enumerate(self.idx)]

    def emit(self, step, steps, phase, x, curves, losses, force=False):
        now = time.monotonic()
        if (
            x is None
            or self.progress is None
            or (not force and now - self._last_emit < 1.0 / self.r.progress_hz)
        ):
            return
        self._last_emit = now
        best = _best(losses, self.R)
        if self.r.focus >= 0:
            focus = int(np.clip(self.r.focus, 0, len(self.maps) - 1))
        else:  # the highest loss, kept until another map leads by 10 % (the view does not flicker)
            top = int(np.argmax(best))
            if self._auto is None or best[top] > 1.1 * best[self._auto]:
                self._auto = top
            focus = self._auto
        b = focus * self.R + int(np.argmax(losses.reshape(-1, self.R)[focus]))
        curve = curves[b, : step + 1].copy() if curves is not None else np.zeros(0, np.float32)
        done = curve[np.isfinite(curve)]
        rel = float(abs(done[-1] - done[-2]) / (abs(done[-1]) + 1e-7)) if len(done) > 1 else float("nan")
        image = np.array(x[b, :, :, 0], dtype=np.float32)  # a copy: x is reused
        done = [k for k, st in enumerate(self._snap_steps) if st <= step]
        frame = OipFrame(
            step, steps, phase, int(self.maps[focus]), image, curve, rel, best,
            initial=np.array(self._x0[b, :, :, 0], np.float32),
            snapshots=np.array(self._snaps[b, : len(done), :, :, 0], np.float32),
            snapshot_steps=tuple(self._snap_steps[: len(done)]),
        )  # fmt: skip
        self.progress((step + 1) / steps, f"{phase} step {step + 1}/{steps}", frame)

    def precursor(self) -> np.ndarray:
        """Try K long-scale starts per sample for a few steps; keep the one its map reacts to most."""
        s, K = self.s, self.s.precursor_starts
        B = len(self.idx)
        factors = tuple(s.precursor_factors) + (0.0,) * (len(s.grids) - len(s.precursor_factors))
        seeds = [(*sd, 1000 + k) for sd in self.seeds() for k in range(K)]
        x0 = oip_init.multiscale_images(B * K, self.shape, s.grids, factors[: len(s.grids)], seeds)
        idx = np.repeat(self.idx, K)
        x, loss = self._loop(x0, idx, s.precursor_steps, "precursor", redirect_for=s.precursor_steps)
        best = np.argmax(loss.reshape(B, K), axis=1)
        return x.reshape(B, K, *self.shape)[np.arange(B), best]

    def _loop(self, x0, idx, steps, phase, redirect_for):
        tf = self.stepper.tf
        x = tf.constant(x0)
        zeros = tf.zeros_like(x)
        m, v, t = zeros, zeros, tf.constant(0.0)
        idx_t = tf.constant(idx, tf.int32)
        eps = tf.constant(self.s.epsilon, tf.float32)
        active = tf.constant(np.ones(len(idx), bool))
        loss = np.zeros(len(idx), np.float32)
        for j in range(steps):
            if self.cancelled():
                self.stopped = True
                break
            x, m, v, t, loss_t, _ = self.stepper.fn(j < redirect_for)(x, m, v, t, idx_t, eps, active)
            loss = loss_t.numpy()
            if self._due():
                self._last_emit = time.monotonic()
                self.progress((j + 1) / steps, f"{phase} step {j + 1}/{steps}", None)
        return x.numpy(), loss

    def _due(self) -> bool:
        return self.progress is not None and time.monotonic() - self._last_emit >= 1.0 / self.r.progress_hz

    def main(self, x0: np.ndarray):
        """The ascent proper: returns final images, curves, snapshots and per-sample status."""
        tf, s = self.stepper.tf, self.s
        steps = s.total_steps
        B = len(self.idx)
        curves = np.full((B, steps), np.nan, np.float32)
        snap_steps = log_spaced_steps(steps, s.snapshots)
        snaps = np.zeros((B, len(snap_steps), *self.shape), np.float32)
        self._x0, self._snaps, self._snap_steps = x0, snaps, snap_steps
        stage_starts = {int(c): k + 1 for k, c in enumerate(np.cumsum(s.stages)[:-1])} if s.stages else {}
        zero_run = np.zeros(B, np.int32)
        below = np.zeros(B, np.int32)
        conv_step = np.full(B, -1, np.int32)
        steps_used = np.zeros(B, np.int32)
        active = np.ones(B, bool)
        gave_up = np.zeros(B, bool)
        last = np.zeros(B, np.float32)  # each sample's latest loss
        x = tf.constant(x0)
        m = v = tf.zeros_like(x)
        t = tf.constant(0.0)
        idx_t = tf.constant(self.idx, tf.int32)
        eps = tf.constant(s.epsilon, tf.float32)
        xn = x0
        for j in range(steps):
            if self.cancelled():
                self.stopped = True
                break
            if j in stage_starts:  # strategy 1: add the next, shorter scale
                k = stage_starts[j]
                xn = oip_init.add_scale(x.numpy(), s.grids[k], s.factors[k], self.seeds(2000 + k))
                x = tf.constant(xn)
            redirect = j < s.redirect_steps and self.target.info.redirect_available
            x, m, v, t, loss_t, gz_t = self.stepper.fn(redirect)(x, m, v, t, idx_t, eps, tf.constant(active))
            loss, gz = loss_t.numpy(), gz_t.numpy()
            curves[active, j] = loss[active]
            last[active] = loss[active]
            steps_used[active] = j + 1
            # articles: relative change between successive steps, after step 10, in several successive steps
            if j > 10:
                rel = np.abs(loss - curves[:, j - 1]) / (np.abs(loss) + 1e-7)
                below = np.where(active & (rel < s.conv_threshold), below + 1, np.where(active, 0, below))
                newly = (below >= s.conv_successive) & (conv_step < 0)
                conv_step[newly] = j
            dead = (loss == 0.0) & gz & active
            zero_run = np.where(dead, zero_run + 1, np.where(active, 0, zero_run))
            if not redirect:
                quit_now = zero_run > s.give_up_after
                gave_up |= quit_now
                active &= ~quit_now
            if s.early_stop:
                active &= below < s.conv_successive
            need_x = j in snap_steps or self._due()
            if need_x:
                xn = x.numpy()
                if j in snap_steps:
                    snaps[:, snap_steps.index(j)] = xn
            self.emit(j, steps, "ascent", xn if need_x else None, curves, last)
            if not active.any():
                break
        xn = x.numpy()
        for k, st in enumerate(snap_steps):  # samples that stopped early keep their final image
            late = steps_used <= st
            snaps[late, k] = xn[late]
        converged = below >= s.conv_successive
        return xn, curves, snap_steps, snaps, last, converged, conv_step, steps_used, gave_up


def _best(losses: np.ndarray, R: int) -> np.ndarray:
    return np.asarray(losses, np.float32).reshape(-1, R).max(axis=1)


def run_oip(loaded, request: OipRequest, progress: Callable | None = None, cancelled=None) -> OipResult:
    """Run the batched OIP search of ``request`` on the compute thread.

    ``progress(fraction, text, frame)`` receives at most ``request.progress_hz`` frames per second.
    ``cancelled()`` is checked before every step; when it turns true the partial result is returned with
    ``stopped`` set.
    """
    s = request.settings
    s.validate()
    if not request.maps:
        raise ValueError("no maps selected")
    t0 = time.monotonic()
    target = OipTarget(loaded, request.layer, request.convention)
    n = target.info.n_units
    bad = [m for m in request.maps if not 0 <= int(m) < n]
    if bad:
        raise ValueError(f"map {bad[0]} does not exist: layer '{target.key}' has maps 0 to {n - 1}")
    run = _Run(request, target, progress, cancelled or (lambda: False))
    B = len(run.idx)
    if s.precursor_starts > 0:
        x0 = run.precursor()
    else:
        x0 = _start_images(s, target.info.input_shape, run.seeds())
    xn, curves, snap_steps, snaps, last, converged, conv_step, used, gave_up = run.main(x0)
    if run.stopped:  # the steps never taken are not kept (a 100,000-step run stopped early stays small)
        curves = curves[:, : max(int(used.max()), 1)]
    R = run.R
    best = np.argmax(np.where(np.isfinite(last), last, -np.inf).reshape(-1, R), axis=1)
    pick = np.arange(len(request.maps)) * R + best
    # each curve is finite up to its steps used: the last relative change from its last two values
    rows = np.arange(B)
    final = curves[rows, np.maximum(used - 1, 0)]
    before = curves[rows, np.maximum(used - 2, 0)]
    rel = np.where(used > 1, np.abs(final - before) / (np.abs(final) + 1e-7), np.nan).astype(np.float32)
    actives = None
    if request.with_data_active and not run.stopped:
        actives = data_active(
            loaded, target.key, request.maps, cancelled=cancelled, convention=request.convention
        )
    return OipResult(
        layer=target.key,
        kind=target.info.kind,
        maps=np.asarray(request.maps, np.int32),
        settings=s,
        images=xn[pick],
        initial=np.asarray(x0)[pick],
        losses=last[pick],
        curves=curves[pick],
        snapshot_steps=np.asarray(snap_steps, np.int32),
        snapshots=snaps[pick],
        rel_change=rel[pick],
        converged=converged[pick],
        converged_step=conv_step[pick],
        reacts=(last[pick] > 0) & ~gave_up[pick],
        steps_used=used[pick],
        data_active=actives,
        device=_device(),
        seconds=time.monotonic() - t0,
        stopped=run.stopped,
        convention=request.convention,
    )
