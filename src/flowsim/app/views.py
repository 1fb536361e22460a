"""What the workshop app draws and offers for download, without Streamlit: the report's figures,
the HTML report, the edited scenario as YAML and the animated day or week.

The animation uses vidigi (`animate_activity_log`, on `flowsim.analysis.export.vidigi_log`):
patients as dots moving from the front door through ED, SDEC, AMU and AFU, so a room can watch
the queue for a bed build up in ED while the cubicles fill. Wards and community services hold
over a thousand patients; they are not drawn, a patient leaving the front door for a ward
simply leaves the picture. Baseline and a change can be drawn side by side on one clock (the
same patients arrive in both, on common random numbers); the clock reads "Day 1, 04:15" and
the legend names the frailty colours. If vidigi is missing or fails, `occupancy_animation`
draws the first scenario's day as bars of places in use, frame by frame, with plotly alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import yaml

from flowsim._version import __version__
from flowsim.analysis.figure_data import unit_label
from flowsim.app.engine import Comparison
from flowsim.experiment import ReplicationTask
from flowsim.log import EventLog
from flowsim.scenario import Scenario, diff_scenarios, scenario_to_yaml
from flowsim.scenario.units import capacity_of

__all__ = [
    "FRONT_DOOR_EVENTS",
    "animated_places",
    "animation_figure",
    "animation_task",
    "animation_to_json",
    "chain_for_figure",
    "change_yaml",
    "comparison_figures",
    "day_clock",
    "frailty_names",
    "front_door_log",
    "front_door_positions",
    "front_door_reducer",
    "occupancy_animation",
    "report_html",
    "side_by_side_json",
    "stage_label",
]

FRONT_DOOR_EVENTS: dict[str, tuple[int, int, str, str | None]] = {
    "arrival": (130, 0, "Arrive", None),
    "ed_cubicle_wait": (260, 0, "Waiting for an ED cubicle", None),
    "ed_cubicle_begins": (260, 0, "In an ED cubicle", "ed_cubicles"),
    "ward_wait": (260, 0, "In ED, waiting for a ward", None),
    "sdec_wait": (900, 0, "Waiting for SDEC", None),
    "sdec_begins": (900, 0, "SDEC chairs", "sdec"),
    "amu_wait": (900, 0, "Waiting for AMU", None),
    "amu_begins": (900, 0, "AMU beds", "amu"),
    "afu_wait": (900, 0, "Waiting for AFU", None),
    "afu_begins": (900, 0, "AFU beds", "afu"),
    "depart": (1140, 0, "Left (home or a ward)", None),
}
"""The front-door events the animation draws: x of their column, y (set by
`front_door_positions` from the places), a fallback label, the resource a ``_begins`` uses."""

# ---------------------------------------------------------------- figures and report


def chain_for_figure(chain: Sequence[str]) -> list[str]:
    """The blocking chain as the report draws it (ambulances wait at handover)."""
    return ["handover" if (u == "ambulance" and i) else u for i, u in enumerate(chain)]


def comparison_figures(result: Comparison) -> dict[str, Any]:
    """The report's figures of a comparison, by caption: the forest plot of the headline
    changes, the lengths of stay by frailty band and each scenario's blocking chain."""
    from flowsim.report.figures import blocking_chain_figure, forest_figure, los_figure

    base = result.labels[0]
    out: dict[str, Any] = {
        f"Change from {base} in the headline measures, as % of its mean, with the paired 95% "
        "confidence interval: green better, red worse, grey no clear difference.": forest_figure(
            result.headline, f"Change from {base}: % of its mean, paired 95% CI"
        ),
        "Length of hospital stay by frailty band, each scenario (all replications pooled).": (
            los_figure(result.los)
        ),
    }
    for label, b in result.chains.items():
        if b.chain:
            chain = chain_for_figure(b.chain)
            hours = {
                new: b.chain_hours.get(old, 0.0) for old, new in zip(b.chain, chain, strict=True)
            }
            out[f"{label}: the blocking chain, patient-hours a day waiting at each link."] = (
                blocking_chain_figure(chain, hours)
            )
    return out


def report_html(result: Comparison, figures: Mapping[str, Any]) -> str:
    """The comparison as the self-contained HTML report of ``flowsim compare``."""
    from flowsim.report.html import render_compare_report

    s = result.settings
    meta = {
        "scenario_file": "flowsim workshop app",
        "seed": result.scenarios[0].run.seed if s.seed is None else s.seed,
        "replications": s.replications,
        "horizon_days": s.horizon_days,
        "warm_up_days": s.warm_up_days,
        "flowsim_version": __version__,
        "date": f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        "wall_seconds": round(result.wall_seconds, 1),
    }
    base = result.scenarios[0].model_copy(update={"warm_start": None})
    changes = {
        label: [
            row
            for row in diff_scenarios(base, s.model_copy(update={"warm_start": None}))
            if row[0] not in ("name", "description")
        ]
        for label, s in zip(result.labels[1:], result.scenarios[1:], strict=True)
    }
    return render_compare_report(
        result.scenarios,
        result.labels,
        result.table,
        figures,
        meta,
        changes=changes,
        bottlenecks=result.chains,
        kpis=result.kpis,
        trends=getattr(result, "trends", None),
    )


def change_yaml(
    scenario: Scenario,
    changes: Mapping[str, Any],
    name: str,
    extends: str | None,
) -> str:
    """The edited scenario as a file: a few lines extending the library file it came from
    (``extends``), or the whole scenario when it came from an upload."""
    header = (
        f"# {name}: made in the flowsim workshop app, {dt.date.today():%Y-%m-%d}.\n"
        "# Check it with: flowsim validate FILE; compare it with: flowsim compare "
        "scenarios/baseline.yaml FILE\n"
    )
    if extends is None:
        from flowsim.scenario import apply_changes

        edited = apply_changes(scenario, changes).model_copy(
            update={"name": name, "warm_start": None}
        )
        return header + scenario_to_yaml(edited)
    body: dict[str, Any] = {"extends": extends, "name": name}
    for dotted, value in changes.items():
        node = body
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return header + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


# ---------------------------------------------------------------- the animation


def front_door_log(log: EventLog, start_hours: float, hours: float) -> pd.DataFrame:
    """vidigi's event log of the front door (ED, SDEC, AMU, AFU) from ``start_hours`` for
    ``hours``; run where the replication runs, so only this table travels back.

    Waits for any ward become ``ward_wait``; taking a ward bed is leaving the picture. Events
    before ``start_hours`` are kept: vidigi needs each patient's arrival (``time`` stays in
    minutes from the start of the run).
    """
    from flowsim.analysis.export import vidigi_log

    v = vidigi_log(log)
    event = v["event"].astype(str).str.replace(r"^ward_.*_(wait|begins)$", r"ward_\1", regex=True)
    v = v.assign(event=event)
    v = v[v["event"].isin([*FRONT_DOOR_EVENTS, "ward_begins"])].copy()
    to_ward = v["event"] == "ward_begins"
    v.loc[to_ward, "event"] = "depart"
    v.loc[to_ward, "event_type"] = "arrival_departure"
    v.loc[to_ward, "resource_id"] = pd.NA
    v = v.sort_values(["entity_id", "time"], kind="stable")
    left = v[v["event"] == "depart"].groupby("entity_id")["time"].min()
    v = v[v["time"] <= v["entity_id"].map(left).fillna(np.inf)]
    v = v.drop_duplicates(["entity_id", "event"], keep="first")
    end = (start_hours + hours) * 60.0
    v = v[v["time"] <= end]
    columns = ["entity_id", "event_type", "event", "time", "resource_id", "pathway", "frailty"]
    v = v[columns].reset_index(drop=True)
    for text in ("event_type", "event", "pathway", "frailty"):  # vidigi adds its own labels
        v[text] = v[text].astype(str).astype(object)
    return v


def animated_places(scenario: Scenario) -> dict[str, int]:
    """Places of each animated resource: ``<unit>_begins`` uses a place of the unit."""
    return {
        resource: capacity_of(scenario, event.removesuffix("_begins"))
        for event, (*_, resource) in FRONT_DOOR_EVENTS.items()
        if resource is not None
    }


ANIMATION_START_HOURS = 24.0
"""The animated window starts at midnight after one simulated day, when ED has filled (the
wards and community services start from the census)."""

PANEL_WIDTH = 1220
"""Width of one scenario's panel, in the animation's units."""
_WRAP_QUEUE, _WRAP_PLACES, _SHOWN = 15, 30, 45
_GAP, _QUEUE_ROW, _PLACE_ROW, _LABEL_ROOM = 8, 26, 20, 34
FRAILTY_COLOURS = {"fit": "#1f5fa8", "frail": "#d08000", "severe": "#b3261e"}
"""Patients' colour by frailty band (blue, amber, red: dark enough on white)."""


def frailty_names() -> dict[str, str]:
    """The legend's name of each frailty band, with its Clinical Frailty Scale scores."""
    from flowsim.scenario.base import CFS_BY_BAND

    words = {"fit": "fit", "frail": "frail", "severe": "severely frail"}
    return {
        band: f"{words.get(band, band)} (CFS {scores[0]}-{scores[-1]})"
        for band, scores in CFS_BY_BAND.items()
    }


def stage_label(event: str, places: Mapping[str, int]) -> str:
    """What the animation writes at a stage, worded from the unit catalogue (the place a
    unit offers, "AMU bed"), with the number of places of a resource."""
    from flowsim.scenario.units import spec_of

    *_, fallback, resource = FRONT_DOOR_EVENTS[event]
    unit = event.removesuffix("_wait").removesuffix("_begins")
    spec = spec_of(unit)
    if spec is None:
        return fallback
    if resource is not None:
        return f"{spec.place}s: {places.get(resource, 0)}"
    article = "an" if spec.place[:1] in "AEIOU" else "a"
    return f"Waiting for {article} {spec.place}"


def front_door_positions(places: Mapping[str, int], x_offset: float = 0.0) -> pd.DataFrame:
    """vidigi's positions of the front-door stages, stacked so no queue, row of places or
    label runs into the next: vidigi builds queues and rows of places leftwards and then
    upwards from a stage's anchor, so each anchor sits above the full height of the stage
    below it (a queue shows at most `_SHOWN` patients, then "+ n more")."""
    queue_height = (math.ceil(_SHOWN / _WRAP_QUEUE) + 1) * _QUEUE_ROW

    def height(event: str) -> float:
        resource = FRONT_DOOR_EVENTS[event][3]
        if resource is None:
            return queue_height
        return max(1, math.ceil(places.get(resource, 0) / _WRAP_PLACES)) * _PLACE_ROW

    columns = (
        ("ward_wait", "ed_cubicle_begins", "ed_cubicle_wait"),
        ("afu_begins", "afu_wait", "amu_begins", "amu_wait", "sdec_begins", "sdec_wait"),
    )
    y: dict[str, float] = {}
    for column in columns:
        level = 20.0
        for event in column:
            y[event] = level
            level += height(event) + _LABEL_ROOM
    top = max(y[c[-1]] + height(c[-1]) for c in columns)
    y["arrival"], y["depart"] = top + _LABEL_ROOM, 20.0
    rows = []
    for event, (x, _, _, resource) in FRONT_DOOR_EVENTS.items():
        shared = event in ("arrival", "depart")
        rows.append(
            {
                "event": event,
                "x": x + (0.0 if shared else x_offset),
                "y": y[event],
                "label": stage_label(event, places),
                "resource": resource,
            }
        )
    return pd.DataFrame(rows)


def animation_task(scenario: Scenario, days: int) -> ReplicationTask:
    """The replication an animation of ``days`` days draws: replication 0, no warm-up beyond
    the day before the window."""
    return ReplicationTask.of(
        scenario, 0, horizon_days=ANIMATION_START_HOURS / 24.0 + days, warm_up_days=0.0
    )


def front_door_reducer(days: int) -> Any:
    """A picklable function of a log that returns its `front_door_log` for the animated
    window, so only that small table travels back from the worker."""
    return functools.partial(front_door_log, start_hours=ANIMATION_START_HOURS, hours=24.0 * days)


def animation_to_json(scenarios: Scenario | Sequence[Scenario], days: int) -> Any:
    """A picklable function of the first scenario's log (`animation_task`) that returns the
    animation of every scenario side by side as plotly JSON: the worker that ran the first
    also runs the others' short days and draws, so the app's server process only waits."""
    chosen = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    return functools.partial(
        _animation_json,
        others=[animation_task(s, days) for s in chosen[1:]],
        names=[s.name for s in chosen],
        places=[animated_places(s) for s in chosen],
        start_date=f"{chosen[0].run.start_date:%Y-%m-%d}",
        days=days,
    )


def _animation_json(
    log: EventLog,
    others: Sequence[ReplicationTask],
    names: Sequence[str],
    places: Sequence[dict[str, int]],
    start_date: str,
    days: int,
) -> str:
    from flowsim.experiment import run_replication

    hours = 24.0 * days
    events = [front_door_log(log, ANIMATION_START_HOURS, hours)]
    events += [run_replication(task, front_door_reducer(days)) for task in others]
    return side_by_side_json(
        dict(zip(names, events, strict=True)),
        dict(zip(names, places, strict=True)),
        start_date,
        hours,
    )


def side_by_side_json(
    events: Mapping[str, pd.DataFrame],
    places: Mapping[str, Mapping[str, int]],
    start_date: str,
    hours: float,
) -> str:
    """`animation_figure` of one or more scenarios as plotly JSON; the plain plotly view of
    the first if vidigi cannot draw it."""
    try:
        fig = animation_figure(events, places, start_date, ANIMATION_START_HOURS, hours)
    except Exception:  # vidigi missing or failing: the plain plotly view still shows the day
        name, first = next(iter(events.items()))
        fig = occupancy_animation(first, name, ANIMATION_START_HOURS, hours)
    return fig.to_json()


def day_clock(minutes: float, start_hours: float = ANIMATION_START_HOURS) -> str:
    """The animation's clock: "Day 2, 04:15" for simulation minute ``minutes``, day 1 being
    the first animated day (from ``start_hours``)."""
    elapsed = round(minutes - start_hours * 60.0)
    day, rest = divmod(elapsed, 24 * 60)
    return f"Day {day + 1}, {rest // 60:02d}:{rest % 60:02d}"


def animation_figure(
    events: Mapping[str, pd.DataFrame],
    places: Mapping[str, Mapping[str, int]],
    start_date: str,
    start_hours: float,
    hours: float,
) -> Any:
    """The vidigi animation of each scenario's ``events`` (`front_door_log`, by scenario
    label) side by side on one clock, from ``start_hours`` for ``hours``: a frame every 15
    minutes for a day, every 2 hours for a week. ``places``: each scenario's ED cubicles,
    SDEC chairs, AMU and AFU beds (``ed_cubicles``, ``sdec``, ``amu``, ``afu``).

    Replication 0 of every scenario shares its random numbers, so the same patients arrive
    in each panel at the same moments; only what the change does differs. vidigi draws one
    system, so each panel after the first gets its own event and resource names and patient
    numbers, shifted right by `PANEL_WIDTH` (arrival and departure are shared anchors).
    """
    from vidigi.animation import animate_activity_log

    frames, positions, resources = [], [], {}
    for k, (label, ev) in enumerate(events.items()):
        suffix = f"~{k}" if k else ""
        pos = front_door_positions(places[label], k * PANEL_WIDTH)
        own = ~pos["event"].isin(["arrival", "depart"])
        pos.loc[own, "event"] = pos.loc[own, "event"] + suffix
        pos["resource"] = pd.Series(
            [f"{r}{suffix}" if isinstance(r, str) else None for r in pos["resource"]],
            dtype=object,
        )
        positions.append(pos if k == 0 else pos[own])
        resources.update({f"{r}{suffix}": n for r, n in places[label].items()})
        ev = ev.copy()
        keep = ~ev["event"].isin(["arrival", "depart"])
        ev.loc[keep, "event"] = ev.loc[keep, "event"] + suffix
        ev["entity_id"] = ev["entity_id"].astype("int64") + k * 100_000_000
        frames.append(ev)
    step = 15 if hours <= 24 else 120
    names = frailty_names()
    layout = pd.concat(positions, ignore_index=True)
    layout.loc[layout["event"] == "depart", "x"] += (len(events) - 1) * PANEL_WIDTH
    fig = animate_activity_log(
        pd.concat(frames, ignore_index=True),
        layout,
        scenario=resources,
        every_x_time_units=step,
        warm_up=int(start_hours * 60),
        limit_duration=int((start_hours + hours) * 60),
        step_snapshot_max=_SHOWN,
        wrap_queues_at=_WRAP_QUEUE,
        wrap_resources_at=_WRAP_PLACES,
        entity_icon_size=11,
        resource_icon_size=10,
        text_size=13 if len(events) == 1 else 12,
        gap_between_entities=_GAP,
        gap_between_resources=_GAP,
        gap_between_queue_rows=_QUEUE_ROW,
        gap_between_resource_rows=_PLACE_ROW,
        plotly_height=760,
        frame_duration=350,
        frame_transition_duration=300,
        custom_entity_icon_list=["●"],
        entity_colour_by="frailty",
        entity_colour_map=FRAILTY_COLOURS,
        start_date=start_date,
        display_stage_labels=True,
        plot_bgcolor="#f7f7f7",
    )
    _finish(fig, list(events), names)
    return fig


def _finish(fig: Any, labels: Sequence[str], names: Mapping[str, str]) -> None:
    """Clock in days and hours, a legend of the frailty colours, a title over each panel."""
    for trace in [*fig.data, *(d for f in fig.frames for d in f.data)]:
        if trace.name in names:
            trace.name = names[trace.name]
            trace.legendgroup = trace.name
    for trace in fig.data:
        trace.showlegend = trace.name in names.values()
    slider = fig.layout.sliders[0]
    for s in slider.steps:
        s.label = day_clock(float(s.args[0][0]))
    slider.currentvalue = {"prefix": "Clock: ", "font": {"size": 24, "color": "#222"}}
    slider.font = {"color": "rgba(0,0,0,0)"}  # every step's clock would overlap as ticks
    fig.update_layout(
        showlegend=True,
        legend={
            "title": {"text": "Patients by frailty"},
            "orientation": "h",
            "x": 0.0,
            "y": 1.02,
            "yanchor": "bottom",
            "itemsizing": "constant",
        },
        margin={"t": 90},
    )
    if len(labels) > 1:
        top = max(float(max(t.y)) for t in fig.data if t.y is not None and len(t.y)) + 40
        for k, label in enumerate(labels):
            fig.add_annotation(
                x=k * PANEL_WIDTH + PANEL_WIDTH / 2 - 40,
                y=top,
                text=f"<b>{label}</b>",
                showarrow=False,
                font={"size": 16},
            )


def occupancy_animation(events: pd.DataFrame, name: str, start_hours: float, hours: float) -> Any:
    """Places in use and patients waiting at each front-door stage, hour by hour, as animated
    bars drawn with plotly alone: the fallback when vidigi cannot draw the day."""
    import plotly.graph_objects as go

    stages = [e for e in FRONT_DOOR_EVENTS if e not in ("arrival", "depart")]
    step = 1.0 if hours <= 24 else 4.0
    times = np.arange(0.0, hours + step / 2, step)
    ev = events.sort_values(["entity_id", "time"])
    nxt = ev.groupby("entity_id")["time"].shift(-1).fillna(np.inf)
    frames = []
    for t in times:
        now = (start_hours + t) * 60.0
        here = ev[(ev["time"] <= now) & (nxt > now)]
        counts = here["event"].value_counts()
        frames.append([int(counts.get(s, 0)) for s in stages])
    labels = [FRONT_DOOR_EVENTS[s][2] for s in stages]
    top = max(max(f) for f in frames) * 1.1 + 1
    fig = go.Figure(
        data=[go.Bar(x=labels, y=frames[0], marker_color="#1f5fa8")],
        frames=[
            go.Frame(data=[go.Bar(x=labels, y=f)], name=f"{t:g} h")
            for t, f in zip(times, frames, strict=True)
        ],
    )
    fig.update_layout(
        title=f"Patients at each front-door stage, every {step:g} h ({name})",
        yaxis={"range": [0, top], "title": "patients"},
        height=520,
        updatemenus=[
            {
                "type": "buttons",
                "buttons": [
                    {
                        "label": "Play",
                        "method": "animate",
                        "args": [None, {"frame": {"duration": 300}}],
                    }
                ],
            }
        ],
        sliders=[
            {
                "steps": [
                    {
                        "label": f"{t:g} h",
                        "method": "animate",
                        "args": [[f"{t:g} h"], {"mode": "immediate"}],
                    }
                    for t in times
                ]
            }
        ],
    )
    return fig


def unit_names(units: Sequence[str]) -> list[str]:
    """Plain names of units, as in the report."""
    return [unit_label(u) for u in units]
