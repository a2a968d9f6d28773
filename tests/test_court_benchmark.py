"""The court benchmark's target rules (benchmarks/court_adversarial.py, issue 13)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import court_adversarial as ca  # noqa: E402


def _results(**medians):
    """{name: {"metrics": {metric: {"median": v}}}} with every metric of a name set to the given dict."""
    return {name: {"metrics": {m: {"median": v[m]} for m in ca.METRICS}} for name, v in medians.items()}


def test_targets_count_a_zero_median_as_within_30_percent_of_a_zero_expert():
    expert = dict(trajectory_length=0.68, out_of_bound_rate=0.0, step_change=2.7e-3, path_difference=0.74,
                  player_distance=0.46)
    model = dict(expert, trajectory_length=0.5, path_difference=0.49)  # 26% and 34% off; the rest equal
    pretrain = dict(expert, trajectory_length=2.3, out_of_bound_rate=0.04, step_change=3.6e-2, path_difference=0.83,
                    player_distance=0.47)
    results = _results(Expert=expert, **{"NAOMI adversarial": model, "NAOMI pretrain": pretrain})
    forecast = {"Linear": {"ade_mean": 0.07},
                "NAOMI adversarial": {"ade_mean": 0.065, "best_of_k": 0.06, "best_over_sample": 0.8}}
    rows = {r["target"].split(": ", 1)[1]: r for r in ca.stochastic_targets(results, forecast)}
    within = rows["within 30% of the expert on at least 4 of 5 metrics"]
    assert within["met"] and within["shown"].startswith("4 of 5") and "out_of_bound_rate" in within["shown"]
    assert "path_difference" not in within["shown"]
    assert rows["ADE of its mean imputation below Linear's"]["met"]
    assert not rows["best-of-K ADE against Linear's ADE"]["met"]  # 0.06 > 0.8 x 0.07
    assert rows["best-of-K ADE against its mean sample ADE"]["met"]
    assert rows["step change within 50% of the expert's"]["met"]
    # out of bounds 0 against the expert's 0 is a tie, not a win: closer on 4 of 5 (all but that one)
    assert rows["closer to the expert than NAOMI pretrain on at least 4 of 5"]["met"]


def test_targets_are_skipped_without_the_model():
    rows = ca.stochastic_targets(_results(Expert=dict.fromkeys(ca.METRICS, 1.0)), {"Linear": {"ade_mean": 0.07}})
    assert len(rows) == 6 and all(r["met"] is None and r["shown"] == "skipped" for r in rows)
