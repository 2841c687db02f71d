"""OIP search: batched gradient ascent on the input for whole layers (the articles' algorithm and beyond).

Seed mode ("Seed (articles)") is the articles' strategy 0, per map: loss = mean activation of the map;
gradient normalised to unit RMS; ``x += eps * g``; re-standardise the image; 600 steps; snapshots at
log-spaced steps; convergence = relative loss change below 2e-4 in 4 successive steps (the articles'
criterion); a map whose loss and gradient stay exactly 0 for more than 10 steps "does not react". The Lucid
preset optimises a Fourier parameterisation under random transformations with Adam (see
:mod:`cnnviz_gui.core.oip.steps`). All maps x restarts x diversity images of a layer run as one batch through
one compiled step; the step loop stays in Python so that progress and Stop work after every step.
``run_oip`` is a compute-thread job body: ``run_oip(loaded, request, progress, cancelled)``. After the search
the final images are read out once more: their objective without transformations, the share of it kept
under 4-pixel shifts, and (with a dataset) how they compare with the dataset's best image.
Settings, presets and result types live in :mod:`cnnviz_gui.core.oip.types` and are re-exported here.
Results hold display values in 0..1 and what the model received in ``request.convention``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from cnnviz_gui.core.oip import start_images as oip_init
from cnnviz_gui.core.oip.steps import Stepper
from cnnviz_gui.core.oip.target import OipTarget, OipTargetError, input_affine
from cnnviz_gui.core.oip.transforms import SHIFTS, shifted
from cnnviz_gui.core.oip.types import (
    PRESET_DESCRIPTIONS,
    PRESETS,
    OipFrame,
    OipRequest,
    OipResult,
    OipSettings,
    default_preset,
    log_spaced_steps,
    parse_maps,
    preset,
)

__all__ = [
    "PRESETS",
    "PRESET_DESCRIPTIONS",
    "OipFrame",
    "OipRequest",
    "OipResult",
    "OipSettings",
    "OipTarget",
    "OipTargetError",
    "default_preset",
    "input_affine",
    "log_spaced_steps",
    "parse_maps",
    "preset",
    "run_oip",
]


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
    """State of one batched search: sample b is map ``b // (R K)``, restart ``(b // K) % R``, image ``b % K``."""

    def __init__(self, request: OipRequest, stepper: Stepper, progress, cancelled):
        self.r, self.s, self.target = request, request.settings, stepper.target
        self.progress, self.cancelled = progress, cancelled
        self.stepper = stepper
        self.maps = np.asarray(request.maps, dtype=np.int32)
        self.R, self.K = int(self.s.restarts), int(self.s.diversity)
        self.idx = np.repeat(self.maps, self.R * self.K)
        self.first = np.arange(0, len(self.idx), self.K)  # the first of each sample's K images
        self.shape = stepper.target.info.input_shape
        self._last_emit = 0.0
        self._auto: int | None = None
        self.stopped = False

    def seeds(self, *extra) -> list[tuple[int, ...]]:
        """One seed per sample from (seed, map, restart[, image], *extra): an image never depends on the
        others."""
        R, K = self.R, self.K
        out = []
        for b, m in enumerate(self.idx):
            base = (self.s.seed, int(m), (b // K) % R) + ((b % K,) if K > 1 else ())
            out.append((*base, *extra))
        return out

    def display(self, state) -> np.ndarray:
        """Display values 0..1 of (part of) a state."""
        return self.target.display_np(self.stepper.images(state))

    def group_losses(self, losses: np.ndarray) -> np.ndarray:
        """(M, R): the mean loss of each restart's K images."""
        return np.asarray(losses, np.float32).reshape(len(self.maps), self.R, self.K).mean(axis=2)

    def emit(self, step, steps, phase, x, curves, losses, force=False):
        now = time.monotonic()
        if self.progress is None or (not force and now - self._last_emit < 1.0 / self.r.progress_hz):
            return
        self._last_emit = now
        groups = self.group_losses(losses)
        best = groups.max(axis=1)
        if self.r.focus >= 0:
            focus = int(np.clip(self.r.focus, 0, len(self.maps) - 1))
        else:  # the highest loss, kept until another map leads by 10 % (the view does not flicker)
            top = int(np.argmax(best))
            if self._auto is None or best[top] > 1.1 * best[self._auto]:
                self._auto = top
            focus = self._auto
        b = (focus * self.R + int(np.argmax(groups[focus]))) * self.K
        curve = curves[b, : step + 1].copy() if curves is not None else np.zeros(0, np.float32)
        done = curve[np.isfinite(curve)]
        rel = float(abs(done[-1] - done[-2]) / (abs(done[-1]) + 1e-7)) if len(done) > 1 else float("nan")
        images = self.display(x[b : b + self.K])  # copies: x is reused
        k = b // self.K
        done = [i for i, st in enumerate(self._snap_steps) if st <= step]
        frame = OipFrame(
            step, steps, phase, int(self.maps[focus]), _squeeze(images[0]), curve, rel, best,
            initial=_squeeze(self._x0_display[k]),
            snapshots=_squeeze(self._snaps[k, : len(done)]),
            snapshot_steps=tuple(self._snap_steps[: len(done)]),
            images=images,
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
        eps = tf.constant(np.full(len(idx), self.s.epsilon, np.float32))
        active = tf.constant(np.ones(len(idx), bool))
        loss = np.zeros(len(idx), np.float32)
        for j in range(steps):
            if self.cancelled():
                self.stopped = True
                break
            seed = tf.constant([self.s.seed + 1_000_003, j], tf.int32)
            x, m, v, t, loss_t, _ = self.stepper.fn(j < redirect_for)(x, m, v, t, idx_t, eps, active, seed)
            loss = loss_t.numpy()
            if self._due():
                self._last_emit = time.monotonic()
                self.progress((j + 1) / steps, f"{phase} step {j + 1}/{steps}", None)
        return x.numpy(), loss

    def _due(self) -> bool:
        return self.progress is not None and time.monotonic() - self._last_emit >= 1.0 / self.r.progress_hz

    def main(self, x0: np.ndarray):
        """The ascent proper: returns the final state, curves, snapshots and per-sample status."""
        tf, s = self.stepper.tf, self.s
        steps = s.total_steps
        B = len(self.idx)
        curves = np.full((B, steps), np.nan, np.float32)
        snap_steps = log_spaced_steps(steps, s.snapshots)
        first = self.first
        self._x0_display = self.display(x0[first])
        snaps = np.zeros((len(first), len(snap_steps), *self.shape), np.float32)
        self._snaps, self._snap_steps = snaps, snap_steps
        stages = s.stages if not self.stepper.fourier else ()  # stages add pixel noise: pixel images only
        stage_starts = {int(c): k + 1 for k, c in enumerate(np.cumsum(stages)[:-1])} if stages else {}
        zero_run = np.zeros(B, np.int32)
        below = np.zeros(B, np.int32)
        conv_step = np.full(B, -1, np.int32)
        steps_used = np.zeros(B, np.int32)
        active = np.ones(B, bool)
        gave_up = np.zeros(B, bool)
        last = np.zeros(B, np.float32)  # each sample's latest loss
        eps = np.full(B, s.epsilon, np.float32)
        x = tf.constant(x0)
        m = v = tf.zeros_like(x)
        t = tf.constant(0.0)
        idx_t = tf.constant(self.idx, tf.int32)
        eps_t = active_t = eps_now = active_now = None
        for j in range(steps):
            if self.cancelled():
                self.stopped = True
                break
            if j in stage_starts:  # strategy 1: add the next, shorter scale
                k = stage_starts[j]
                x = tf.constant(oip_init.add_scale(x.numpy(), s.grids[k], s.factors[k], self.seeds(2000 + k)))
            redirect = j < s.redirect_steps and self.target.info.redirect_available
            if eps_t is None or not np.array_equal(eps, eps_now):  # new tensors only when they change
                eps_now, eps_t = eps.copy(), tf.constant(eps)
            if active_t is None or not np.array_equal(active, active_now):
                active_now, active_t = active.copy(), tf.constant(active)
            seed = tf.constant([s.seed, j], tf.int32)  # the random transformations of step j: reproducible
            x, m, v, t, loss_t, gz_t = self.stepper.fn(redirect)(x, m, v, t, idx_t, eps_t, active_t, seed)
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
                if s.step_decay:  # the loss fell: the step rocks across a kink; make it smaller
                    fell = active & (loss < curves[:, j - 1])
                    eps[fell] = np.maximum(eps[fell] * s.decay_factor, s.epsilon * 1e-3)
            dead = (loss == 0.0) & gz & active
            zero_run = np.where(dead, zero_run + 1, np.where(active, 0, zero_run))
            if not redirect:
                quit_now = zero_run > s.give_up_after
                gave_up |= quit_now
                active &= ~quit_now
            if s.early_stop:
                active &= below < s.conv_successive
            if j in snap_steps:
                snaps[:, snap_steps.index(j)] = self.display(tf.gather(x, first))
            self.emit(j, steps, "ascent", x, curves, last)
            if not active.any():
                break
        final = self.display(tf.gather(x, first))
        for k, st in enumerate(snap_steps):  # samples that stopped early keep their final image
            late = steps_used[first] <= st
            snaps[late, k] = final[late]
        converged = below >= s.conv_successive
        return x.numpy(), curves, snap_steps, snaps, converged, conv_step, steps_used, gave_up


STEPPERS_KEY = "oip.steppers"


def cached_stepper(loaded, layer: str, convention: str, space: str, s: OipSettings) -> Stepper:
    """The target and its compiled steps for these settings, kept in ``loaded.cache`` (a new search with the
    same graph does not trace again). The key holds every setting the compiled graph depends on."""
    cache = loaded.cache.setdefault(STEPPERS_KEY, {})
    target_key = ("target", layer, convention, space)
    if target_key not in cache:
        cache[target_key] = OipTarget(loaded, layer, convention, space=space)
    target = cache[target_key]
    graph = (s.param, s.transforms, s.objective, s.diversity, s.diversity_weight, s.jitter, s.tv_weight)
    key = (target_key, *graph, s.optimizer, s.fourier_decay)
    if key not in cache:
        cache[key] = Stepper(target, s)
    stepper = cache[key]
    stepper.s = s  # the graph does not depend on the other settings (steps, seed, epsilon, thresholds)
    return stepper


def _nanmean_rows(a: np.ndarray) -> np.ndarray:
    """Mean of each row over its finite values; nan for a row without any (and no warning)."""
    ok = np.isfinite(a)
    count = ok.sum(axis=1)
    total = np.where(ok, a, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan).astype(np.float32)


def _squeeze(images: np.ndarray) -> np.ndarray:
    """Drop the channel axis of grey images (the live view draws (H, W) or (H, W, 3))."""
    a = np.array(images, dtype=np.float32)
    return a[..., 0] if a.shape[-1] == 1 else a


def shift_kept(stepper: Stepper, images: np.ndarray, idx: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Per sample: the objective of the image moved by 4 pixels (mean of the 4 directions, borders
    reflected) over its objective unmoved; nan where the objective is not positive."""
    moved = [stepper.evaluate(shifted(images, dy, dx), idx) for dy, dx in SHIFTS]
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.mean(moved, axis=0) / clean
    return np.where(clean > 0, kept, np.nan).astype(np.float32)


def _reference(loaded, request: OipRequest, target: OipTarget, cancelled, progress=None):
    """(data_active (M,), best objective of any dataset image (M,)) or (None, None) when stopped. The
    dataset pass reports ``progress(1.0, text, None)`` per batch (the search itself is done)."""
    from cnnviz_gui.core.activations.exemplars import layer_statistics

    def report(fraction: float, text: str = "") -> None:
        if progress is not None:
            progress(1.0, f"comparing with the dataset: {text}", None)

    stats = layer_statistics(
        loaded, target.key, dataset=request.dataset, convention=request.convention, progress=report,
        cancelled=cancelled,
    )  # fmt: skip
    if stats is None:
        return None, None, ""
    maps = np.asarray(request.maps, np.int64)
    peak = stats.peak[:, maps]
    per = stats.centre if request.settings.objective == "centre" else stats.mean
    return peak.max(axis=0) > 0, per[:, maps].max(axis=0), stats.dataset


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
    space = "display" if s.param == "fourier" else "standardised"
    stepper = cached_stepper(loaded, request.layer, request.convention, space, s)
    target = stepper.target
    n = target.info.n_units
    bad = [m for m in request.maps if not 0 <= int(m) < n]
    if bad:
        raise ValueError(f"map {bad[0]} does not exist: layer '{target.key}' has maps 0 to {n - 1}")
    cancelled = cancelled or (lambda: False)
    run = _Run(request, stepper, progress, cancelled)
    if s.param == "fourier":
        x0 = run.stepper.start_state(run.seeds())
    elif s.precursor_starts > 0:
        x0 = run.precursor()
    else:
        x0 = _start_images(s, target.info.input_shape, run.seeds())
    state, curves, snap_steps, snaps, converged, conv_step, used, gave_up = run.main(x0)
    if run.stopped:  # the steps never taken are not kept (a 100,000-step run stopped early stays small)
        curves = curves[:, : max(int(used.max()), 1)]
    M, R, K = len(request.maps), run.R, run.K
    images = run.stepper.images(state)  # in the target's space
    clean = run.stepper.evaluate(images, run.idx)
    kept = shift_kept(run.stepper, images, run.idx, clean)
    best = np.argmax(np.where(np.isfinite(clean), clean, -np.inf).reshape(M, R, K).mean(axis=2), axis=1)
    pick = ((np.arange(M) * R + best)[:, None] * K + np.arange(K)[None, :]).reshape(-1)  # (M K,)
    pick0 = pick.reshape(M, K)[:, 0]
    # each curve is finite up to its steps used: the last relative change from its last two values
    rel = np.full(len(run.idx), np.nan, np.float32)
    u = used[pick0]
    final, before = curves[pick0, np.maximum(u - 1, 0)], curves[pick0, np.maximum(u - 2, 0)]
    rel[pick0] = np.where(u > 1, np.abs(final - before) / (np.abs(final) + 1e-7), np.nan)
    display = target.display_np(images[pick])
    inputs = target.model_inputs_np(images[pick])
    if K > 1:
        display = display.reshape(M, K, *display.shape[1:])
        inputs = inputs.reshape(M, K, *inputs.shape[1:])
    image_losses = clean[pick].reshape(M, K)
    losses = image_losses.mean(axis=1)
    actives = vs_best = None
    reference = ""
    if (request.with_data_active or request.dataset is not None) and not run.stopped:
        actives, best_data, reference = _reference(loaded, request, target, cancelled, progress)
        if best_data is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                vs_best = np.where(best_data > 0, losses / best_data, np.nan).astype(np.float32)
        if not request.with_data_active:
            actives = None
    curve_groups = curves[pick].reshape(M, K, -1)
    return OipResult(
        layer=target.key,
        kind=target.info.kind,
        maps=np.asarray(request.maps, np.int32),
        settings=s,
        images=display,
        initial=run.display(np.asarray(x0)[pick0]),
        losses=losses.astype(np.float32),
        curves=curve_groups.mean(axis=1) if K > 1 else curve_groups[:, 0],
        snapshot_steps=np.asarray(snap_steps, np.int32),
        snapshots=snaps[pick0 // K],
        rel_change=rel[pick0],
        converged=converged[pick0],
        converged_step=conv_step[pick0],
        reacts=(losses > 0) & ~gave_up[pick0],
        steps_used=used[pick0],
        data_active=actives,
        device=_device(),
        seconds=time.monotonic() - t0,
        stopped=run.stopped,
        convention=request.convention,
        model_inputs=inputs,
        image_losses=image_losses.astype(np.float32),
        shift_kept=_nanmean_rows(kept[pick].reshape(M, K)),
        vs_best_exemplar=vs_best,
        reference_dataset=reference,
    )
