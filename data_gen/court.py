"""Court trajectories: a synthetic stand-in for the basketball data of NAOMI's second experiment (paper §4.2).

The paper imputes plays of five offensive players, 50 steps at 6.25 Hz (8 seconds)
on the left half-court, from proprietary STATS SportVU tracking data (107,146
training and 13,845 test sequences). We cannot ship that data, so this module
*simulates* five agents that move somewhat like offensive players. It is a stand-in
for teaching, not a model of basketball: what it has and what it lacks is below.

What it models (all per agent, vectorised over sequences):

* **Goals.** Each agent heads for a goal: one of the hand-picked court spots in
  ``GOAL_SPOTS`` (corners, wings, slots, top of the key, elbows, low posts, short
  corners, the basket area, a deep spot near half court) plus a little jitter.
* **Branching futures.** Goals switch at random times: a Poisson process with a rate
  drawn once per agent (some agents are "spot-up shooters" who rarely move, others
  "cutters" who move a lot). The new goal is drawn with probability
  ∝ exp(-distance / ``choice_scale``) among the spots no teammate is heading for.
  So from one state the future branches into several distinct plays: the mean of
  those futures is a place where hardly any of them goes, which is why L2 error is
  the wrong yardstick and why a model trained for the mean blurs.
* **Momentum.** The velocity is an Ornstein-Uhlenbeck-like process: it relaxes at rate
  ``pull`` towards a desired velocity (towards the goal at the agent's cruise speed,
  slowing inside ``arrive_radius``), with the goal-seeking acceleration capped at
  ``max_accel`` and white-noise kicks of size ``noise``. Speeds are clipped at
  ``max_speed`` = 20 ft/s (about what players reach).
* **Spacing.** A soft repulsion pushes teammates apart when closer than ``spacing``.
* **The court.** Soft walls push agents back when they come within ``wall_margin``
  of a line, so excursions out of bounds are rare but not impossible (as in real
  tracking data, where players step out now and then).

How it differs from real tracking data: there is no ball and no defense, there are
no plays or set pieces (agents coordinate only through spacing and not sharing a
goal), the goal spots are hand-picked, and the statistics are tuned roughly by eye
and against the paper's expert values (Table 2), not fitted to data. Users with real
data can load it with :func:`load_real`.

Units and coordinates. We simulate in feet on a 47 ft x 50 ft NBA half court:
x runs from the baseline (x = 0, the basket is at x = 5.25) to the half-court line
(x = 47), y from one sideline (y = 0) to the other (y = 50). Positions are then
normalized with one scale and one shift for both axes,

    normalized = feet / 50 - 0.5          (:func:`normalize`; :func:`denormalize` inverts)

so the court is ``COURT_X`` = (-0.5, 0.44) by ``COURT_Y`` = (-0.5, 0.5), and a
distance of 1 normalized unit is 50 ft in every direction. The original NAOMI code
normalizes differently (x_ft = 94 x + 25, y_ft = 50 y + 25: x divided by the
*full* court length); :func:`to_naomi_units` converts our coordinates to that
convention (x times 50/94, y unchanged), so metrics can be compared with the paper.

Layout. A dataset is float32 (n, T, 10), each step [x1, y1, x2, y2, ..., x5, y5] as
in the original data; T = 50 steps at ``HZ`` = 6.25 Hz.

Public API: ``simulate``, ``simulate_futures``, ``initial_state``, ``CourtState``,
``CourtParams``, ``dataset``, ``save_dataset``, ``load_dataset``, ``load_real``,
``normalize``, ``denormalize``, ``to_naomi_units``, ``from_naomi_units``; the CLI is
``python -m data_gen court --help``. Metrics: ``naomi_lite.court_metrics``.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

import numpy as np

from .cli import add_dataset_arguments, run_dataset
from .storage import load_train_test, read_arrays, save_train_test

# ---------------------------------------------------------------------------
# Court geometry and units
# ---------------------------------------------------------------------------

HZ = 6.25  # tracking frequency (paper §4.2)
DT = 1.0 / HZ  # seconds per step (0.16 s)
T_DEFAULT = 50  # steps per sequence: 8 seconds (paper §4.2)
N_TRAIN, N_TEST = 20000, 2000  # default dataset sizes (the paper has 107,146 and 13,845 real ones)
N_AGENTS = 5

SCALE_FT = 50.0  # feet per normalized unit, both axes
SHIFT = 0.5  # normalized = feet / SCALE_FT - SHIFT
COURT_FT = (47.0, 50.0)  # half court, feet: x from the baseline to the half-court line, y across
COURT_X = (-0.5, 0.44)  # normalized: the baseline (0 ft) and the half-court line (47 ft)
COURT_Y = (-0.5, 0.5)  # normalized: the two sidelines (0 ft and 50 ft)

#: Hand-picked court spots the agents head for, in feet (x from the baseline, y across).
GOAL_SPOTS = {
    "left corner": (3.0, 2.0),
    "right corner": (3.0, 48.0),
    "left short corner": (4.0, 11.0),
    "right short corner": (4.0, 39.0),
    "basket area": (6.0, 25.0),
    "left low post": (8.0, 16.0),
    "right low post": (8.0, 34.0),
    "left elbow": (19.0, 17.0),
    "right elbow": (19.0, 33.0),
    "left wing": (22.0, 8.0),
    "right wing": (22.0, 42.0),
    "left slot": (28.0, 15.0),
    "right slot": (28.0, 35.0),
    "top of the key": (31.0, 25.0),
    "deep top": (39.0, 25.0),
}
_SPOTS = np.array(list(GOAL_SPOTS.values()), dtype=np.float64)  # (S, 2) feet
_PAIRS = [(j, k) for j in range(N_AGENTS) for k in range(j + 1, N_AGENTS)]  # the 10 pairs of agents
_SPOT_DIST = np.linalg.norm(_SPOTS[:, None] - _SPOTS[None], axis=-1)  # (S, S) feet between spots


def normalize(x_ft):
    """Feet on the half court -> normalized units: ``x_ft / 50 - 0.5`` (both axes, elementwise)."""
    return np.asarray(x_ft, dtype=np.float64) / SCALE_FT - SHIFT


def denormalize(x):
    """Normalized units -> feet: ``(x + 0.5) * 50`` (both axes, elementwise); inverts :func:`normalize`."""
    return (np.asarray(x, dtype=np.float64) + SHIFT) * SCALE_FT


def to_naomi_units(x):
    """Our normalized (..., 10) coordinates -> the original NAOMI code's normalization.

    The original code stores x_n = (x_ft - 25) / 94 and y_n = (y_ft - 25) / 50 (its
    ``unnormalize`` in ``helpers.py``). With x_ft = 50 (x + 0.5) that is x_n = x * 50/94
    and y_n = y: only the x coordinates shrink. Returns float64.
    """
    a = np.array(x, dtype=np.float64)  # a copy
    a[..., 0::2] *= SCALE_FT / 94.0
    return a


def from_naomi_units(x):
    """Inverse of :func:`to_naomi_units`: the original code's normalization -> ours (float64)."""
    a = np.array(x, dtype=np.float64)
    a[..., 0::2] *= 94.0 / SCALE_FT
    return a


# ---------------------------------------------------------------------------
# Parameters (feet and seconds)
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CourtParams:
    """The simulator's knobs, in feet and seconds. Tuned roughly, not fitted (see the module docstring)."""

    max_speed: float = 20.0  # ft/s, hard clip on every agent's speed
    max_accel: float = 12.0  # ft/s^2, cap on the goal-seeking acceleration
    cruise_speed: tuple = (7.0, 14.0)  # ft/s, each agent's running speed, uniform in this range
    switch_rate: tuple = (0.1, 0.8)  # 1/s, each agent's goal-switching rate, log-uniform in this range
    pull: float = 2.0  # 1/s, how fast the velocity relaxes to the desired one (OU rate)
    arrive_radius: float = 5.0  # ft, desired speed falls linearly to 0 inside this distance of the goal
    noise: float = 1.5  # ft/s per sqrt(s), white-noise kicks to the velocity (OU noise)
    choice_scale: float = 20.0  # ft, a new goal is drawn with probability ~ exp((-distance + spread * room) / choice_scale)
    spread: float = 2.0  # weight of "room": the distance from the spot to the nearest teammate's goal
    target_jitter: float = 1.5  # ft, standard deviation of the goal around its court spot
    spacing: float = 8.0  # ft, teammates closer than this push each other apart
    repulsion: float = 15.0  # ft/s^2, push between two teammates at zero distance (falls linearly to 0 at spacing)
    wall_margin: float = 0.5  # ft, walls start pushing this far inside the lines
    wall_stiffness: float = 15.0  # 1/s^2, wall push per foot of penetration into the margin
    burn_in: int = 40  # steps simulated (and dropped) before step 0, so plays start mid-motion


_RANGE_FIELDS = ("cruise_speed", "switch_rate")


def _check_params(params: dict) -> CourtParams:
    """``CourtParams`` with ``params`` applied; TypeError/ValueError naming a bad entry."""
    names = {f.name for f in dataclasses.fields(CourtParams)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise TypeError(f"unknown court parameter(s) {unknown}; known: {sorted(names)}")
    p = dataclasses.replace(CourtParams(), **params)
    for f in dataclasses.fields(CourtParams):
        value = getattr(p, f.name)
        if f.name == "burn_in":
            _check_int("burn_in", value, 0)
        elif f.name in _RANGE_FIELDS:
            if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
                raise TypeError(f"{f.name} must be a pair (low, high) of numbers, got {value!r}")
            lo, hi = (_check_number(f"{f.name}[{i}]", v) for i, v in enumerate(value))
            if not 0 < lo <= hi:
                raise ValueError(f"{f.name} must satisfy 0 < low <= high, got {value!r}")
        else:
            value = _check_number(f.name, value)
            if f.name in ("target_jitter", "noise", "repulsion", "wall_stiffness", "spread"):
                if value < 0:
                    raise ValueError(f"{f.name} must be >= 0, got {value}")
            elif value <= 0:
                raise ValueError(f"{f.name} must be > 0, got {value}")
    if p.cruise_speed[1] > p.max_speed:
        raise ValueError(f"cruise_speed high ({p.cruise_speed[1]}) must be <= max_speed ({p.max_speed})")
    return p


def _check_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    return np.random.default_rng(_check_int("seed", seed, 0))


# ---------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CourtState:
    """The full state of n simulated plays, in feet and seconds (all float64 arrays).

    ``pos`` (n, 5, 2) positions, ``vel`` (n, 5, 2) velocities (ft/s), ``goal`` (n, 5)
    index into ``GOAL_SPOTS`` of each agent's current goal, ``target`` (n, 5, 2) the
    jittered goal point, ``cruise`` (n, 5) running speeds and ``rate`` (n, 5)
    goal-switching rates (the agents' fixed "personalities").
    """

    pos: np.ndarray
    vel: np.ndarray
    goal: np.ndarray
    target: np.ndarray
    cruise: np.ndarray
    rate: np.ndarray

    @property
    def n(self) -> int:
        return self.pos.shape[0]

    def select(self, i: int) -> "CourtState":
        """The state of play ``i`` alone (n = 1), e.g. to branch futures from it."""
        i = _check_int("i", i, 0)
        if i >= self.n:
            raise ValueError(f"i must be < n = {self.n}, got {i}")
        return CourtState(*(a[i:i + 1].copy() for a in self._arrays()))

    def repeat(self, k: int) -> "CourtState":
        """Each play copied ``k`` times (n*k plays; play i's copies are rows i*k .. i*k+k-1)."""
        k = _check_int("k", k, 1)
        return CourtState(*(np.repeat(a, k, axis=0) for a in self._arrays()))

    def _arrays(self) -> list:
        return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _choose_goals(rng: np.random.Generator, pos: np.ndarray, goal: np.ndarray, rows: np.ndarray, agents: np.ndarray,
                  p: CourtParams) -> tuple[np.ndarray, np.ndarray]:
    """New goal (index, jittered target) for the K agents (rows[k], agents[k]).

    Among the spots that no agent of the play is heading for now (the agent's own goal
    included), spot s is drawn with probability

        P(s) ∝ exp((-|pos - s| + spread * min_teammates |goal_j - s|) / choice_scale)

    near spots are likelier, and so are spots away from where teammates are going
    (floor spacing). Sampled with the Gumbel-max trick. Agents of one play that switch
    in the same step choose independently, so they may (rarely) pick the same spot.
    """
    K, S = rows.size, len(_SPOTS)
    goals = goal[rows]  # (K, 5) the play's current goals, -1 = none yet
    dist = np.linalg.norm(pos[rows, agents][:, None, :] - _SPOTS[None], axis=-1)  # (K, S) from the agent
    team = _SPOT_DIST[:, np.maximum(goals, 0)].transpose(1, 0, 2)  # (K, S, 5) from each teammate's goal
    others = (goals >= 0) & (np.arange(N_AGENTS)[None, :] != agents[:, None])  # (K, 5) teammates with a goal
    team = np.where(others[:, None, :], team, np.inf).min(axis=-1)  # (K, S) nearest teammate goal
    team = np.where(np.isfinite(team), team, 0.0)  # no teammate goal yet: no preference
    taken = np.zeros((K, S + 1), dtype=bool)  # one spare column: goal -1 ("none yet") marks it, harmlessly
    taken[np.arange(K)[:, None], goals] = True
    taken = taken[:, :S]  # (K, S)
    scores = (-dist + p.spread * team) / p.choice_scale + rng.gumbel(size=(K, S))
    scores[taken] = -np.inf  # 5 agents, 15 spots: at least 10 free ones
    new = scores.argmax(axis=1)  # (K,)
    target = _SPOTS[new] + p.target_jitter * rng.standard_normal((K, 2))
    target = np.clip(target, 0.5, np.array(COURT_FT) - 0.5)  # goals lie on the court
    return new, target


def _length(v: np.ndarray) -> np.ndarray:
    """Euclidean length over the last axis (of size 2), keeping it: (..., 2) -> (..., 1). Faster than norm here."""
    return np.hypot(v[..., 0:1], v[..., 1:2])


def _step(rng: np.random.Generator, s: CourtState, p: CourtParams) -> CourtState:
    """Advance every play by one step of DT seconds (Euler-Maruyama)."""
    n = s.n
    goal, target = s.goal.copy(), s.target.copy()

    # 1. Poisson goal switching: each agent switches with probability 1 - exp(-rate * DT).
    switch = rng.random((n, N_AGENTS)) < -np.expm1(-s.rate * DT)  # (n, 5)
    rows, agents = np.nonzero(switch)
    if rows.size:
        goal[rows, agents], target[rows, agents] = _choose_goals(rng, s.pos, goal, rows, agents, p)

    # 2. Desired velocity: towards the target at cruise speed, slowing down on arrival.
    to_goal = target - s.pos  # (n, 5, 2)
    d = _length(to_goal)  # (n, 5, 1)
    speed = s.cruise[..., None] * np.minimum(1.0, d / p.arrive_radius)  # (n, 5, 1)
    v_des = to_goal / np.maximum(d, 1e-9) * speed  # (n, 5, 2)
    acc = p.pull * (v_des - s.vel)  # (n, 5, 2) OU relaxation
    a_norm = _length(acc)
    acc = acc * np.minimum(1.0, p.max_accel / np.maximum(a_norm, 1e-9))  # cap the goal-seeking acceleration

    # 3. Spacing: soft repulsion between teammates closer than `spacing`, pair by pair (10 pairs).
    for j, k in _PAIRS:
        diff = s.pos[:, j] - s.pos[:, k]  # (n, 2) from agent k to agent j
        dist = _length(diff)  # (n, 1)
        push = p.repulsion * np.maximum(0.0, 1.0 - dist / p.spacing) * diff / np.maximum(dist, 1e-9)  # (n, 2)
        acc[:, j] += push
        acc[:, k] -= push

    # 4. Soft walls: push back in proportion to how far inside the margin (or beyond the line) an agent is.
    lo_pen = np.maximum(0.0, p.wall_margin - s.pos)  # (n, 5, 2) near x = 0 / y = 0
    hi_pen = np.maximum(0.0, s.pos - (np.array(COURT_FT) - p.wall_margin))  # near x = 47 / y = 50
    acc = acc + p.wall_stiffness * (lo_pen - hi_pen)

    # 5. Integrate: velocity with white noise (OU), speed clip, then position.
    vel = s.vel + acc * DT + p.noise * math.sqrt(DT) * rng.standard_normal((n, N_AGENTS, 2))
    v_norm = _length(vel)
    vel = vel * np.minimum(1.0, p.max_speed / np.maximum(v_norm, 1e-9))  # |v| <= max_speed
    pos = s.pos + vel * DT
    return CourtState(pos, vel, goal, target, s.cruise, s.rate)


def _initial_state(rng: np.random.Generator, n: int, p: CourtParams) -> CourtState:
    """Random plays after ``p.burn_in`` steps: agents start anywhere on court, at rest, each with a goal."""
    cruise = rng.uniform(*p.cruise_speed, size=(n, N_AGENTS))  # (n, 5) ft/s
    log_lo, log_hi = math.log(p.switch_rate[0]), math.log(p.switch_rate[1])
    rate = np.exp(rng.uniform(log_lo, log_hi, size=(n, N_AGENTS)))  # (n, 5) 1/s, log-uniform
    pos = 2.0 + rng.random((n, N_AGENTS, 2)) * (np.array(COURT_FT) - 4.0)  # (n, 5, 2) uniform, 2 ft inside
    goal = np.full((n, N_AGENTS), -1, dtype=np.int64)  # -1: no goal yet
    target = np.zeros((n, N_AGENTS, 2))
    rows = np.arange(n)
    for a in range(N_AGENTS):  # one agent at a time, so teammates get different goals
        goal[:, a], target[:, a] = _choose_goals(rng, pos, goal, rows, np.full(n, a), p)
    s = CourtState(pos, np.zeros((n, N_AGENTS, 2)), goal, target, cruise, rate)
    for _ in range(p.burn_in):
        s = _step(rng, s, p)
    return s


def _rollout(rng: np.random.Generator, s: CourtState, T: int, p: CourtParams) -> tuple[np.ndarray, CourtState]:
    """Record T steps starting with ``s`` (step 0 is ``s.pos``): (n, T, 10) normalized float32, final state."""
    out = np.empty((s.n, T, N_AGENTS, 2), dtype=np.float64)  # (n, T, 5, 2) feet
    out[:, 0] = s.pos
    for t in range(1, T):
        s = _step(rng, s, p)
        out[:, t] = s.pos
    x = normalize(out).reshape(s.n, T, 2 * N_AGENTS)  # (n, T, 10) [x1, y1, ..., x5, y5]
    return x.astype(np.float32), s


def initial_state(n: int, seed=0, **params) -> CourtState:
    """Start states of ``n`` plays (after the burn-in), to branch futures from with :func:`simulate_futures`.

    The same ``n``, ``seed`` and ``params`` always give the same states.
    """
    n = _check_int("n", n, 1)
    return _initial_state(_rng(seed), n, _check_params(params))


def simulate(n: int, T: int = T_DEFAULT, seed=0, *, return_state: bool = False, **params):
    """Simulate ``n`` plays of five agents for ``T`` steps: float32 array (n, T, 10), normalized units.

    Each play starts from a random state (see :func:`initial_state`) and evolves with
    the dynamics of the module docstring; ``params`` override fields of
    :class:`CourtParams` (e.g. ``noise=1.0``). Deterministic per ``seed`` (an int, or a
    ``np.random.SeedSequence`` as :func:`dataset` uses). Unlike the billiards simulator,
    all plays share one random stream step by step, so play i does depend on ``n``.

    With ``return_state=True`` returns ``(x, state)``, where ``state`` is the
    :class:`CourtState` after the last step (to continue the plays).

    Raises ``TypeError``/``ValueError`` naming the bad parameter.
    """
    n = _check_int("n", n, 0)
    T = _check_int("T", T, 2)
    rng = _rng(seed)
    p = _check_params(params)
    if n == 0:
        x = np.zeros((0, T, 2 * N_AGENTS), dtype=np.float32)
        return (x, None) if return_state else x
    x, state = _rollout(rng, _initial_state(rng, n, p), T, p)
    return (x, state) if return_state else x


def simulate_futures(start: CourtState, n_futures: int, T: int = T_DEFAULT, seed=0, **params) -> np.ndarray:
    """``n_futures`` independent continuations of one play: float32 (n_futures, T, 10).

    Every future starts from the same ``start`` (a :class:`CourtState` holding one
    play, e.g. ``initial_state(1, seed=3)`` or ``state.select(i)``), so step 0 is the
    same for all of them; after that each draws its own goal switches and noise from
    ``seed``. This shows the branching: spread the futures out at step T-1 and they
    gather around several distinct court spots, not one.
    """
    if not isinstance(start, CourtState):
        raise TypeError(f"start must be a CourtState (from initial_state or simulate(..., return_state=True)), got {type(start).__name__}")
    if start.n != 1:
        raise ValueError(f"start must hold exactly one play, got {start.n}; pick one with start.select(i)")
    n_futures = _check_int("n_futures", n_futures, 1)
    T = _check_int("T", T, 2)
    rng = _rng(seed)
    p = _check_params(params)
    x, _ = _rollout(rng, start.repeat(n_futures), T, p)
    return x


def dataset(n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = 0, **params):
    """``(train, test)`` float32 arrays (n_train, T, 10) and (n_test, T, 10) of simulated plays.

    Train and test come from independent random streams spawned from one
    ``np.random.SeedSequence(seed)``, so changing ``n_train`` leaves ``test`` unchanged.
    ``params`` (``T`` and any :class:`CourtParams` field) go to :func:`simulate`.
    """
    n_train = _check_int("n_train", n_train, 0)
    n_test = _check_int("n_test", n_test, 0)
    seed = _check_int("seed", seed, 0)
    if "return_state" in params:
        raise TypeError("dataset() does not take return_state; call simulate() for states")
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    train = simulate(n_train, seed=train_seq, **params)  # (n_train, T, 10)
    test = simulate(n_test, seed=test_seq, **params)  # (n_test, T, 10)
    return train, test


# ---------------------------------------------------------------------------
# Saving and loading: our own .npz files, and real data a user brings
# ---------------------------------------------------------------------------


_LAYOUT = " laid out [x1, y1, ..., x5, y5]"


def save_dataset(path, train, test, *, overwrite: bool = True) -> Path:
    """Write ``train`` and ``test`` (N, T, 10) to the .npz file ``path`` atomically; returns the path.

    See :func:`data_gen.storage.save_train_test`. Overwrites an existing file unless
    ``overwrite=False`` (then ``FileExistsError``; the CLI passes it without ``--force``).
    """
    return save_train_test(path, train, test, dim=2 * N_AGENTS, layout=_LAYOUT, overwrite=overwrite)


def load_dataset(path):
    """Read ``(train, test)`` written by :func:`save_dataset` (``allow_pickle=False``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that
    is not an .npz with float arrays 'train' and 'test' of shape (N, T, 10), finite and
    with the same T (the check :func:`save_dataset` makes too).
    """
    return load_train_test(path, dim=2 * N_AGENTS, what="court", layout=_LAYOUT)


#: How far outside the court (in feet) real coordinates may lie before load_real calls them the wrong units.
REAL_MARGIN_FT = 25.0
UNITS = ("feet", "normalized", "naomi")


def load_real(path, units: str = "feet", key: str | None = None) -> np.ndarray:
    """Load real tracking data (N, T, 10) and return it normalized like the generator: float32 (N, T, 10).

    The file is an .npy array or an .npz holding one array (or several, with ``key``
    naming the one to use), of shape (N, T, 10) laid out [x1, y1, ..., x5, y5] per
    step as in the original NAOMI data; pickled objects are refused. ``units``:

    * ``"feet"``: court coordinates in feet on the 94 ft x 50 ft full court, with plays
      on its left half (x from the left baseline, 0 <= x <= 47; 0 <= y <= 50), as in
      the paper. Normalized with :func:`normalize`, exactly like the generator.
      Mirror right-half plays first (x -> 94 - x, y -> 50 - y).
    * ``"normalized"``: already in this module's units (``feet / 50 - 0.5``).
    * ``"naomi"``: the original NAOMI code's normalization (x_ft = 94 x + 25,
      y_ft = 50 y + 25), converted with :func:`from_naomi_units`.

    Raises ``ValueError`` for a wrong shape, NaN/inf, or values far outside the court
    for the stated units (more than ``REAL_MARGIN_FT`` = 25 ft beyond the 94 x 50 ft
    court, or feet data that look already normalized), naming what was found.
    """
    if units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, got {units!r}")
    path = Path(path)
    arrays = read_arrays(path)
    if key is not None:
        if key not in arrays:
            raise ValueError(f"{path} has no array {key!r}; it holds {sorted(k for k in arrays if k is not None) or 'a single .npy array'}")
        a = arrays[key]
    elif len(arrays) == 1:
        a = next(iter(arrays.values()))
    else:
        raise ValueError(f"{path} holds several arrays {sorted(arrays)}; pass key= to choose one")
    a = np.asarray(a)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{path}: expected numbers, got dtype {a.dtype}")
    if a.ndim != 3 or a.shape[-1] != 2 * N_AGENTS or a.shape[1] < 2 or a.shape[0] < 1:
        hint = "; if it is (T, N, 10) as in the original pickles, pass np.swapaxes(a, 0, 1)" if a.ndim == 3 else ""
        raise ValueError(f"{path}: expected shape (N, T, 10) with N >= 1 and T >= 2, laid out [x1, y1, ..., x5, y5], got {a.shape}{hint}")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        i, t, _ = np.argwhere(bad)[0]
        raise ValueError(f"{path}: {int(bad.sum())} NaN/inf values (first in sequence {i}, step {t}); "
                         "drop or repair those sequences first (the metrics and the ground truth need complete plays)")
    if units == "naomi":
        a = from_naomi_units(a)
    elif units == "feet":
        if np.abs(a).max() <= 1.5:
            raise ValueError(f"{path}: all values lie within +-1.5, which looks normalized, not feet; "
                             "pass units='normalized' (or units='naomi' for the original NAOMI files)")
        a = normalize(a)
    # Now in our normalized units: check against the full 94 x 50 ft court plus a margin.
    ft = denormalize(a)
    x_ft, y_ft = ft[..., 0::2], ft[..., 1::2]
    m = REAL_MARGIN_FT
    if x_ft.min() < -m or x_ft.max() > 94 + m or y_ft.min() < -m or y_ft.max() > 50 + m:
        raise ValueError(f"{path}: with units={units!r} the positions span x {x_ft.min():.1f}..{x_ft.max():.1f} ft and "
                         f"y {y_ft.min():.1f}..{y_ft.max():.1f} ft, far outside the 94 x 50 ft court; "
                         "are the units right? (choose from 'feet', 'normalized', 'naomi')")
    return a.astype(np.float32)


# ---------------------------------------------------------------------------
# Command line: python -m data_gen court ...  (dispatched by data_gen/__main__.py)
# ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``court`` subcommand's options on ``parser``."""
    add_dataset_arguments(parser, "court", n_train=N_TRAIN, n_test=N_TEST, T=T_DEFAULT, what="plays",
                          T_help=f"steps per play at {HZ} Hz")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Generate the dataset described by ``args`` and write it; returns the exit status."""
    return run_dataset(args, parser, "court", dataset, save_dataset, dim=2 * N_AGENTS)
