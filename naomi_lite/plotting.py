"""Pictures of trajectories: the billiards table, one path, and imputations against the truth.

Small matplotlib helpers reused by every chapter (billiards, masking, the decoder,
pretraining). Each takes an optional ``ax`` and returns the axes it drew on, so they
compose: ``ax = draw_table(); plot_imputation(truth, {"NAOMI": x_hat}, mask, ax=ax)``.
Trajectories may be NumPy arrays or torch tensors of shape (T, 2). ``mask`` follows the
kit's convention: True (or 1) where a step is observed; observed steps are drawn as
black dots, as in the paper's Figure 5. Nothing here writes image files.

Every method has one colour, defined once here (``METHOD_COLORS``) and used by every
figure of every chapter, by ``naomi_lite.figures`` and by ``naomi_lite.court_plotting``:
NAOMI blue and SingleRes red, as in the paper's Figure 5; ``method_color(name)`` finds
the colour of a decorated name such as ``"NAOMI (L2 0.123)"`` or ``"KNN (k=10)"``.

Taught in ``01_billiards.ipynb`` (first used) and reused in later chapters.
"""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np

TABLE_RADIUS = 0.1172  # same as data_gen.billiards.RADIUS (kept here so plotting needs no data_gen import)

# One colour per method, in every figure of the course. The paper's Figure 5 draws NAOMI blue and
# SingleRes red; the other methods get the remaining colours of matplotlib's default palette.
# The three NAOMI variants of the court chapters are shades of NAOMI's blue.
METHOD_COLORS = {
    "Ground truth": "0.6",            # grey, drawn thick under the others
    "Expert": "0.6",                  # the court's ground truth (the paper's word)
    "NAOMI": "#1f77b4",               # blue (tab:blue), as in the paper
    "NAOMI pretrain": "#7fb8e6",      # light blue: NAOMI before adversarial training (chapter 6)
    "NAOMI adversarial": "#0b3d73",   # dark blue: NAOMI after adversarial training (chapter 6)
    "NAOMI relative": "#17becf",      # cyan: NAOMI with the kit's pivot-relative heads (chapters 4, 5, 7)
    "SingleRes": "#d62728",           # red (tab:red), as in the paper
    "RNN": "#ff7f0e",                 # orange: the autoregressive RNN
    "Linear": "#2ca02c",              # green: linear interpolation
    "KNN": "#9467bd",                 # purple: k nearest neighbours
    "Carry forward": "#8c564b",       # brown: repeat the last observed position (chapter 3)
    # Chapter 8: the classroom-budget models and PyPOTS's modern imputers.
    "NAOMI classroom": "#393b79",     # indigo: NAOMI trained with the classroom recipe (20 minutes)
    "SingleRes classroom": "#ff9896", # light red: SingleRes with the same recipe and budget
    "SAITS": "#e377c2",               # pink
    "BRITS": "#bcbd22",               # olive
    "CSDI": "#843c39",                # maroon
    "ImputeFormer": "#e7ba52",        # gold
}
# Other names in this order (e.g. a student's own model), so that a figure never repeats a method colour.
EXTRA_COLORS = ("#7f7f7f", "#000000", "#5254a3", "#8ca252")
# Words that name a method inside a longer label, e.g. "linear interpolation (both ends)".
_ALIASES = {"truth": "Ground truth", "ground truth": "Ground truth", "expert": "Expert",
            "linear": "Linear", "knn": "KNN", "rnn": "RNN", "singleres": "SingleRes",
            "carry forward": "Carry forward", "naomi": "NAOMI", "pretrain": "NAOMI pretrain",
            "pretrained": "NAOMI pretrain", "naomi pretrain": "NAOMI pretrain",
            "adversarial": "NAOMI adversarial", "naomi adversarial": "NAOMI adversarial",
            "relative": "NAOMI relative", "naomi relative": "NAOMI relative",
            "naomi classroom": "NAOMI classroom", "singleres classroom": "SingleRes classroom",
            "saits": "SAITS", "brits": "BRITS", "csdi": "CSDI", "imputeformer": "ImputeFormer"}
TRUTH_COLOR = METHOD_COLORS["Ground truth"]
OBSERVED_STYLE = dict(linestyle="none", marker="o", markersize=4, color="black", zorder=5)


def method_color(name: str):
    """The colour of method ``name`` in ``METHOD_COLORS``, or None if no method is named.

    The name may carry decorations: ``"NAOMI (L2 0.123)"``, ``"KNN (k=10)"``,
    ``"linear interpolation (both ends)"`` and ``"autoregressive RNN (trained)"`` all find
    their method. The most specific match wins, so ``"NAOMI adversarial"`` is not ``"NAOMI"``.

    Taught in ``01_billiards.ipynb``; used by every figure of the course.
    """
    text = re.sub(r"\(.*?\)", " ", str(name)).lower()  # drop "(k=10)", "(L2 0.123)"
    words = re.findall(r"[a-z0-9]+", text)
    found = None
    for alias, method in _ALIASES.items():
        a = alias.split()
        hit = any(words[i : i + len(a)] == a for i in range(len(words) - len(a) + 1))
        if hit and (found is None or len(alias) > len(found[0])):
            found = (alias, method)
    return METHOD_COLORS[found[1]] if found else None


def method_colors(names) -> list:
    """One colour per name: ``method_color`` where a method is named, else the next of ``EXTRA_COLORS``.

    Taught in ``07_reproducing_the_paper.ipynb``.
    """
    extra = iter(EXTRA_COLORS * (1 + len(list(names)) // len(EXTRA_COLORS)))
    return [method_color(n) or next(extra) for n in names]


def _as_numpy(x) -> np.ndarray:
    """NumPy copy of a NumPy array or torch tensor (detached, on the CPU)."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _as_path(x, name: str = "x") -> np.ndarray:
    x = _as_numpy(x).astype(float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must be one trajectory of shape (T, 2), got shape {x.shape}")
    return x  # (T, 2)


def _as_mask(mask, T: int) -> np.ndarray:
    m = _as_numpy(mask)
    if m.shape != (T,):
        raise ValueError(f"mask must have shape (T,) = ({T},) to match the trajectory, got {m.shape}")
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise ValueError("mask must be boolean, or hold only 0 and 1 (1 = observed)")
        m = m.astype(bool)
    return m  # (T,)


def _new_axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    return ax


def draw_table(ax=None, radius: float = TABLE_RADIUS):
    """Draw the billiards table [-1, 1]^2 (solid) and the box the ball centre can reach (dashed).

    The ball has radius ``radius``, so its centre stays in [-(1 - radius), 1 - radius]^2.
    Sets an equal aspect and limits slightly outside the table. Returns ``ax``.

    Taught in ``01_billiards.ipynb``.
    """
    if not (0.0 < radius < 1.0):
        raise ValueError(f"radius must be in (0, 1), got {radius}")
    ax = _new_axes(ax)
    box = 1.0 - radius
    square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float)  # (5, 2) closed outline
    ax.plot(square[:, 0], square[:, 1], color="black", linewidth=1.5, label="_table")
    ax.plot(box * square[:, 0], box * square[:, 1], color="0.5", linewidth=0.8, linestyle="--", label="_reachable")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.set_xticks([-1, 0, 1])
    ax.set_yticks([-1, 0, 1])
    return ax


def plot_trajectory(x, mask=None, ax=None, label=None, color=None, mark_start: bool = True, **kw):
    """Draw one trajectory ``x`` (T, 2) as a line, with a hollow ring at its start.

    If ``mask`` (T,) is given (True = observed), the observed positions are drawn as
    black dots. Extra keyword arguments go to the line's ``ax.plot``. NaN positions
    (e.g. missing values) leave gaps. Returns ``ax``.

    Taught in ``01_billiards.ipynb``.
    """
    x = _as_path(x)  # (T, 2)
    ax = _new_axes(ax)
    (line,) = ax.plot(x[:, 0], x[:, 1], color=color, label=label, **kw)
    if mark_start:  # an explicit colour, so that the ring does not take the next colour of the cycle
        ax.plot(x[:1, 0], x[:1, 1], linestyle="none", marker="o", markersize=8, color=line.get_color(),
                markerfacecolor="none", markeredgecolor=line.get_color(), label="_start")
    if mask is not None:
        m = _as_mask(mask, x.shape[0])  # (T,)
        ax.plot(x[m, 0], x[m, 1], label="_observed", **OBSERVED_STYLE)
    return ax


def plot_imputation(truth, imputed_dict, mask, ax=None):
    """Compare imputations with the ground truth: truth in grey, each imputation in colour.

    ``truth`` (T, 2); ``imputed_dict`` maps a name (shown in the legend) to a (T, 2)
    imputed trajectory, drawn in its method's colour (``method_color``); ``mask`` (T,) is
    True where a step was observed, drawn as black dots. The legend goes under the axes,
    where it covers no trajectory. Does not draw the table (call :func:`draw_table` first
    for billiards). Returns ``ax``.

    Taught in ``01_billiards.ipynb``; used for model outputs in later chapters.
    """
    truth = _as_path(truth, "truth")  # (T, 2)
    m = _as_mask(mask, truth.shape[0])  # (T,)
    ax = _new_axes(ax)
    plot_trajectory(truth, ax=ax, label="ground truth", color=TRUTH_COLOR, linewidth=3)
    colors = method_colors(list(imputed_dict))
    for (name, x), color in zip(imputed_dict.items(), colors):  # each method in its own colour, in every figure
        x = _as_path(x, f"imputed_dict[{name!r}]")
        if x.shape != truth.shape:
            raise ValueError(f"imputed_dict[{name!r}] has shape {x.shape}, but truth has {truth.shape}")
        plot_trajectory(x, ax=ax, label=str(name), color=color, mark_start=False, linewidth=1.5)
    ax.plot(truth[m, 0], truth[m, 1], label=f"observed ({int(m.sum())})", **OBSERVED_STYLE)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=2, fontsize="small", frameon=False)
    return ax


# The play buttons of matplotlib's JavaScript animation use the Font Awesome icon font, which its
# HTML loads from a CDN. Offline they would be blank, so animation_html draws them with plain
# characters instead (the same classes, so the page looks the same, with no network).
_FONT_AWESOME_LINK = re.compile(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*')
_BUTTON_GLYPHS = {"fa-minus": "\u2212", "fa-plus": "+", "fa-fast-backward": "\u21e4", "fa-fast-forward": "\u21e5",
                  "fa-step-backward": "\u2039", "fa-step-forward": "\u203a", "fa-play": "\u25b6",
                  "fa-pause": "\u275a\u275a"}
_BUTTON_CSS = ("<style>.anim-buttons .fa{font-style:normal;font-family:sans-serif;display:inline-block;min-width:1em}"
               + "".join(f'.anim-buttons .{name}::before{{content:"{glyph}"}}' for name, glyph in _BUTTON_GLYPHS.items())
               + ".anim-buttons .fa-flip-horizontal{transform:scaleX(-1)}</style>\n")


def animation_html(animation, default_mode: str = "once") -> str:
    """``animation.to_jshtml()`` that needs no network: buttons drawn with characters, not a web font.

    Works in JupyterLab, classic Notebook, VS Code, the HTML reports and the course website,
    online or offline. Taught in ``04_multiresolution_decoder.ipynb``.
    """
    page = animation.to_jshtml(default_mode=default_mode)
    return _FONT_AWESOME_LINK.sub(_BUTTON_CSS, page, count=1)
