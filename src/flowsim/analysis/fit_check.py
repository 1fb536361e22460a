"""Observed KPIs of an extract beside the simulated ones of the scenario fitted to it.

An observed period is a single draw, so whether it is consistent with the model is asked of the
95% prediction interval for one period (mean +- t sd sqrt(1 + 1/n)); the CI is of the simulated
mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.analysis.extract import EXTRACT_KPIS

__all__ = ["fit_check_table"]


def fit_check_table(
    observed: Mapping[str, float], simulated: Sequence[Mapping[str, float]]
) -> pd.DataFrame:
    """``kpi, label, unit, observed, sim_mean, ci_low, ci_high, pi_low, pi_high, consistent``
    for each of `EXTRACT_KPIS`, from one `extract_kpis` and a `log_extract_kpis` per
    replication."""
    sims = pd.DataFrame(list(simulated))
    n = len(sims)
    rows = []
    t = float(stats.t.ppf(0.975, n - 1)) if n > 1 else math.nan
    for kpi, (unit, meaning) in EXTRACT_KPIS.items():
        x = sims[kpi].to_numpy(dtype=float)
        mean, sd = float(np.mean(x)), float(np.std(x, ddof=1)) if n > 1 else math.nan
        ci = t * sd / math.sqrt(n)
        pi = t * sd * math.sqrt(1 + 1 / n)
        obs = float(observed[kpi])
        rows.append(
            {
                "kpi": kpi,
                "label": meaning,
                "unit": unit,
                "observed": obs,
                "sim_mean": mean,
                "ci_low": mean - ci,
                "ci_high": mean + ci,
                "pi_low": mean - pi,
                "pi_high": mean + pi,
                "consistent": bool(mean - pi <= obs <= mean + pi),
            }
        )
    return pd.DataFrame(rows)
