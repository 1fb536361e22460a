"""Clock arithmetic: the model's clock is hours since midnight at the start of warm-up."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from flowsim.scenario.schema import DemandProfile


class Calendar:
    """Weekday, month and demand multiplier for any simulated hour."""

    def __init__(self, start_date: dt.date, total_days: int) -> None:
        self.start_weekday = start_date.weekday()
        days = [start_date + dt.timedelta(days=d) for d in range(total_days + 2)]
        self.weekday_of_day = np.array([d.weekday() for d in days], dtype=np.int64)
        self.month_of_day = np.array([d.month - 1 for d in days], dtype=np.int64)

    def weekday(self, t_hours: float) -> int:
        return (self.start_weekday + int(t_hours // 24)) % 7

    def is_weekend(self, t_hours: float) -> bool:
        return self.weekday(t_hours) >= 5

    def month(self, t_hours: float) -> int:
        """Calendar month of a simulated time, 0 for January."""
        return int(self.month_of_day[int(t_hours // 24)])

    def months_at(self, t_hours: np.ndarray) -> np.ndarray:
        """Calendar month (0 for January) of each time."""
        return self.month_of_day[(np.asarray(t_hours) // 24).astype(np.int64)]

    def month_starts(self) -> list[tuple[float, int]]:
        """``(hour, month)`` at the start of the run and at each change of month after it."""
        m = self.month_of_day
        days = [0, *(np.flatnonzero(m[1:] != m[:-1]) + 1).tolist()]
        return [(24.0 * d, int(m[d])) for d in days]

    def monthly_hourly(self, monthly: list[float], total_hours: int) -> np.ndarray:
        """A monthly multiplier (January first, not rescaled) for each whole hour of the run."""
        day = np.arange(total_hours) // 24
        return np.asarray(monthly, dtype=float)[self.month_of_day[day]]

    def hourly_profile(self, profile: DemandProfile, total_hours: int) -> np.ndarray:
        """Demand multiplier for each whole hour of the run (mean 1 over a typical year)."""
        hourly = _normalised(profile.hourly)
        weekday = _normalised(profile.weekday)
        monthly = _normalised(profile.monthly)
        hours = np.arange(total_hours)
        day = hours // 24
        return (
            hourly[hours % 24]
            * weekday[self.weekday_of_day[day]]
            * monthly[self.month_of_day[day]]
            * profile.growth
        )


def _normalised(values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return a / a.mean()


def next_time_in_window(t: float, start_hour: float, end_hour: float) -> float:
    """The first time at or after ``t`` whose hour of day lies in [start_hour, end_hour)."""
    day_start = math.floor(t / 24.0) * 24.0
    hour = t - day_start
    if hour < start_hour:
        return day_start + start_hour
    if hour < end_hour:
        return t
    return day_start + 24.0 + start_hour
