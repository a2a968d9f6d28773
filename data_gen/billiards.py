"""Billiards trajectories: the synthetic dataset of NAOMI's first experiment (paper §4.1).

NAOMI (Liu et al., NeurIPS 2019, §4.1) generates 4000 training and 1000 test sequences
"using the simulator as in (Fragkiadaki et al., 2016)": one ball on a frictionless
rectangular table, a random start position and velocity, rolled out for 200 steps.
The paper names three defining characteristics of these dynamics, and this module
produces them exactly:

1. the ball moves in straight lines,
2. at an unchanging speed,
3. and reflects elastically when it hits a wall.

Geometry. The table is the square [-1, 1]^2 and the ball has radius ``RADIUS``, so
its centre (the position we record) stays inside [-BOX, BOX]^2 with BOX = 1 - RADIUS.

Exact reflections by folding. Instead of stepping with Euler updates and flipping
the velocity when the ball has already crossed a wall (which drifts and can tunnel),
we take the *unconstrained* straight line u(t) = x0 + t*v and fold it into the box
with a triangle-wave (mirror) map, separately in x and y. Folding is what a mirror
does, so the result is the exact elastic bounce at any time t; it is closed form and
vectorised over sequences and steps. A consequence the tests check: the distance
travelled *along the path* in every step is exactly the speed, even in steps that
contain a bounce (where the straight-line displacement is shorter).

Public API (other code relies on these names):
``simulate``, ``dataset``, ``save_dataset``, ``load_dataset``, ``fold``,
``path_speeds``, ``reflection_mask``, ``reflection_steps``; the CLI is
``python -m data_gen billiards --help``.

Taught in ``01_billiards.ipynb``.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from .cli import add_dataset_arguments, run_dataset
from .storage import load_train_test, save_train_test

RADIUS = 0.1172  # ball radius; the table is [-1, 1]^2
BOX = 1.0 - RADIUS  # the ball centre stays in [-BOX, BOX]^2
SPEED_RANGE = (0.0018, 0.1075)  # constant speed per sequence, uniform in this range (distance per step)
T_DEFAULT = 200  # steps per sequence (paper §4.1)
N_TRAIN, N_TEST = 4000, 1000  # dataset sizes (paper §4.1)


# ---------------------------------------------------------------------------
# Parameter checks (each error names the parameter and what is allowed)
# ---------------------------------------------------------------------------


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _check_radius(radius) -> float:
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.integer, np.floating)):
        raise TypeError(f"radius must be a number in (0, 1), got {radius!r}")
    radius = float(radius)
    if not (0.0 < radius < 1.0):  # also rejects NaN
        raise ValueError(f"radius must be in (0, 1) so the ball fits on the [-1, 1]^2 table, got {radius}")
    return radius


def _check_speed_range(speed_range, box: float) -> tuple[float, float]:
    try:
        lo, hi = speed_range
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError) as err:
        raise TypeError(f"speed_range must be a pair (low, high) of numbers, got {speed_range!r}") from err
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"speed_range must be finite, got {speed_range!r}")
    if lo < 0:
        raise ValueError(f"speed_range low must be >= 0, got {lo}")
    if lo > hi:
        raise ValueError(f"speed_range is inverted: low {lo} > high {hi}")
    # At most one bounce per wall pair per step keeps reflection_mask and path_speeds exact.
    if hi >= 2 * box:
        raise ValueError(f"speed_range high must be < {2 * box:.4f} (the width the centre can move in), got {hi}")
    return lo, hi


# ---------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------


def fold(u, box: float = BOX):
    """Fold unconstrained coordinates ``u`` into [-box, box] with the mirror (triangle-wave) map.

    A point moving on a straight line through a row of mirrored copies of the box
    is, folded back, a ball bouncing elastically between the walls. With width
    W = 2*box:  y = (u + box) mod 2W;  y <- 2W - y where y > W;  return y - box.
    Works elementwise on any shape (NumPy arrays or floats).

    Taught in ``01_billiards.ipynb``.
    """
    width = 2.0 * box
    y = np.mod(np.asarray(u, dtype=np.float64) + box, 2.0 * width)  # in [0, 2W)
    y = np.where(y > width, 2.0 * width - y, y)  # mirror the second half back: in [0, W]
    return y - box


def _rollout(rng: np.random.Generator, n: int, T: int, radius: float, speed_range: tuple[float, float]):
    """Draw n sequences from ``rng`` and fold them.

    One row of four uniforms per sequence, (x0, y0, heading, speed), so sequence i is
    the same whatever n is (the first k of ``simulate(n)`` equal ``simulate(k)``).
    """
    box = 1.0 - radius
    lo, hi = speed_range
    r = rng.random((n, 4))  # (N, 4) uniforms in [0, 1)
    x0 = -box + 2.0 * box * r[:, :2]  # (N, 2) start of the ball centre, uniform in the box
    heading = 2.0 * np.pi * r[:, 2]  # (N,) uniform in [0, 2*pi)
    speed = lo + (hi - lo) * r[:, 3]  # (N,) distance per step, uniform in speed_range
    v = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=-1)  # (N, 2) velocity
    t = np.arange(T, dtype=np.float64)  # (T,)
    u = x0[:, None, :] + t[None, :, None] * v[:, None, :]  # (N, T, 2) unconstrained straight line
    x = fold(u, box)  # (N, T, 2) inside the walls, exact bounces
    return x.astype(np.float32), speed


def simulate(n: int, T: int = T_DEFAULT, seed: int = 0, *, radius: float = RADIUS,
             speed_range=SPEED_RANGE, return_speed: bool = False):
    """Simulate ``n`` billiards trajectories of ``T`` steps: array (n, T, 2), float32.

    Each sequence: start uniform in the box [-(1-radius), 1-radius]^2, heading uniform
    in [0, 2*pi), constant speed uniform in ``speed_range`` (distance per step), no
    friction, elastic walls (exact, by folding; see :func:`fold`). Deterministic per
    ``seed`` (``np.random.default_rng(seed)``; a ``np.random.SeedSequence`` also works,
    which is how :func:`dataset` gives train and test their own streams). Sequence i
    does not depend on ``n``: ``simulate(50)[:5]`` equals ``simulate(5)``.

    With ``return_speed=True`` returns ``(x, speed)`` where ``speed`` (n,) float64 is
    each sequence's distance travelled along the path per step.

    Raises ``TypeError``/``ValueError`` naming the bad parameter.

    Taught in ``01_billiards.ipynb``.
    """
    n = _check_int("n", n, 0)
    T = _check_int("T", T, 2)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(seed, np.random.SeedSequence) and seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    radius = _check_radius(radius)
    speed_range = _check_speed_range(speed_range, 1.0 - radius)
    x, speed = _rollout(np.random.default_rng(seed), n, T, radius, speed_range)
    return (x, speed) if return_speed else x


def dataset(n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = 0, **params):
    """The paper's dataset: ``(train, test)`` arrays of shape (n_train, T, 2) and (n_test, T, 2).

    Train and test come from independent random streams, spawned from one
    ``np.random.SeedSequence(seed)``, so changing ``n_train`` leaves ``test`` unchanged.
    ``params`` (``T``, ``radius``, ``speed_range``) are passed to :func:`simulate`.

    Taught in ``01_billiards.ipynb``.
    """
    n_train = _check_int("n_train", n_train, 0)
    n_test = _check_int("n_test", n_test, 0)
    seed = _check_int("seed", seed, 0)
    if "return_speed" in params:
        raise TypeError("dataset() does not take return_speed; call simulate() for speeds")
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    train = simulate(n_train, seed=train_seq, **params)  # (n_train, T, 2)
    test = simulate(n_test, seed=test_seq, **params)  # (n_test, T, 2)
    return train, test


# ---------------------------------------------------------------------------
# Saving and loading (.npz with keys 'train' and 'test')
# ---------------------------------------------------------------------------


def save_dataset(path, train, test, *, overwrite: bool = True) -> Path:
    """Write ``train`` and ``test`` (N, T, 2) to the .npz file ``path`` atomically; returns the path.

    The data go to a temporary file in the same folder first, which then replaces
    ``path`` in one step, so a crash never leaves a half-written file
    (:func:`data_gen.storage.save_train_test`). Overwrites an existing file unless
    ``overwrite=False`` (then ``FileExistsError``; the CLI passes it without ``--force``).

    Taught in ``01_billiards.ipynb``.
    """
    return save_train_test(path, train, test, dim=2, overwrite=overwrite)


def load_dataset(path):
    """Read ``(train, test)`` written by :func:`save_dataset` (``allow_pickle=False``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that
    is not an .npz with float arrays 'train' and 'test' of shape (N, T, 2), finite and
    with the same T (the check :func:`save_dataset` makes too).

    Taught in ``01_billiards.ipynb``.
    """
    return load_train_test(path, dim=2, what="billiards")


# ---------------------------------------------------------------------------
# Helpers for checking the dynamics (used by the notebook and the tests)
# ---------------------------------------------------------------------------


def reflection_mask(x) -> np.ndarray:
    """Boolean (..., T): True at step t where a velocity component changes sign.

    With displacements d_t = x_{t+1} - x_t, step t (1 <= t <= T-2) is marked when
    d_{t-1} and d_t point in opposite directions in x or in y; the bounce happened
    between x_{t-1} and x_{t+1}. The first and last steps are never marked, so a
    bounce inside the very first or very last step is invisible to this test
    (:func:`path_speeds` still measures those steps correctly).
    Input (..., T, 2), NumPy or anything ``np.asarray`` accepts.

    Taught in ``01_billiards.ipynb``.
    """
    x = np.asarray(x, dtype=np.float64)  # (..., T, 2)
    d = np.diff(x, axis=-2)  # (..., T-1, 2)
    flip = (d[..., 1:, :] * d[..., :-1, :] < 0).any(axis=-1)  # (..., T-2) between d_{t-1} and d_t
    out = np.zeros(x.shape[:-1], dtype=bool)  # (..., T)
    out[..., 1:-1] = flip
    return out


def reflection_steps(x) -> np.ndarray:
    """Indices t of one trajectory (T, 2) where a velocity component changes sign.

    ``np.flatnonzero(reflection_mask(x))``; see :func:`reflection_mask`.

    Taught in ``01_billiards.ipynb``.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[-1] != 2:
        raise ValueError(f"reflection_steps takes one trajectory of shape (T, 2), got {x.shape}; use reflection_mask for batches")
    return np.flatnonzero(reflection_mask(x))


def path_speeds(x, radius: float = RADIUS) -> np.ndarray:
    """Distance travelled *along the path* in each step: (..., T-1) for input (..., T, 2).

    For a billiards trajectory (constant velocity between elastic walls at +-BOX,
    BOX = 1 - radius), each coordinate c moves |v_c| per step. In one step from p to q
    it travelled one of: |q - p| (no bounce), (BOX - p) + (BOX - q) (bounce off the
    upper wall) or (p + BOX) + (q + BOX) (bounce off the lower wall). A bounce only
    shortens the straight displacement, so |v_c| = max_t |q - p|; each step keeps the
    candidate closest to it, and the step's path length is the norm over x and y.
    For a trajectory from :func:`simulate` this equals the speed at every step.

    Meant for trajectories with billiards dynamics (ground truth); on an imputed
    trajectory the numbers only mean "unfolded step length under that assumption".

    Taught in ``01_billiards.ipynb``.
    """
    box = 1.0 - _check_radius(radius)
    x = np.asarray(x, dtype=np.float64)  # (..., T, 2)
    if x.ndim < 2 or x.shape[-1] != 2 or x.shape[-2] < 2:
        raise ValueError(f"path_speeds takes trajectories of shape (..., T, 2) with T >= 2, got {x.shape}")
    p, q = x[..., :-1, :], x[..., 1:, :]  # (..., T-1, 2) each
    candidates = np.stack([np.abs(q - p), 2 * box - p - q, 2 * box + p + q], axis=-1)  # (..., T-1, 2, 3)
    v_abs = np.abs(q - p).max(axis=-2, keepdims=True)  # (..., 1, 2) per-coordinate speed
    pick = np.abs(candidates - v_abs[..., None]).argmin(axis=-1)  # (..., T-1, 2)
    along = np.take_along_axis(candidates, pick[..., None], axis=-1)[..., 0]  # (..., T-1, 2)
    return np.linalg.norm(along, axis=-1)  # (..., T-1)


# ---------------------------------------------------------------------------
# Command line: python -m data_gen billiards ...  (dispatched by data_gen/__main__.py)
# ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``billiards`` subcommand's options on ``parser``."""
    add_dataset_arguments(parser, "billiards", n_train=N_TRAIN, n_test=N_TEST, T=T_DEFAULT, what="sequences",
                          T_help="steps per sequence")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Generate the dataset described by ``args`` and write it; returns the exit status."""
    return run_dataset(args, parser, "billiards", dataset, save_dataset, dim=2)
