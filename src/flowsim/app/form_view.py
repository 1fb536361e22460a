"""The "All settings" expander of the workshop app: `flowsim.app.form` drawn with Streamlit.

One call from the page, `all_settings(base)`, draws the form for the chosen baseline and returns
the edited scenario, or None while nothing is changed or a problem remains; the page adds it to
the comparison like an uploaded file (it is read back through `engine.load_upload`, so what runs
is exactly the file a learning set downloads).

The edits live in the session as ``{field path: widget value}``, apart from the widgets: only
the section on screen (or the settings a search finds) is drawn, and Streamlit forgets the
widgets it does not draw. A widget writes its value into the edits when it changes
(``on_change``); a reset removes the edit and the widget, which is drawn again from the base.
"""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from flowsim.app import engine, form
from flowsim.app.form import FieldSpec, FormResult
from flowsim.errors import ScenarioError
from flowsim.scenario import Scenario
from flowsim.scenario.distributions import DIST_NAMES
from flowsim.scenario.yaml_io import show_value

__all__ = ["all_settings"]

_NONE = "(none)"


def all_settings(base: Scenario) -> Scenario | None:
    """Draw the form for ``base``; the edited scenario when it is valid and changes something."""
    prefix = f"form:{engine.scenario_key(base)}"
    edits: dict[str, Any] = st.session_state.setdefault(f"{prefix}:edits", {})
    result = form.apply_form(base, edits)
    specs = form.field_specs(result.data)
    with st.expander("All settings: change any setting of the baseline", key=f"{prefix}:open"):
        st.caption(
            "Every key of a scenario file (docs/scenario-reference.md), by section, with its "
            "unit, allowed range and meaning (hover over the ?). Changed settings are marked; "
            "the edited scenario joins the comparison as "
            f"**{result.data.get('name')}** when you press Run."
        )
        top = st.columns([4, 1], vertical_alignment="bottom")
        query = top[0].text_input(
            "Find a setting",
            key=f"{prefix}:find",
            placeholder="e.g. cubicles, handover, los, weekend",
            help="Words in the key, its unit or its description; all sections are searched.",
        )
        top[1].button(
            "Reset all",
            key=f"{prefix}:reset_all",
            on_click=_reset_all,
            args=(prefix,),
            disabled=not edits,
        )
        _changed_list(prefix, base, result, edits)
        if result.problems.get(""):
            st.error("What to fix:\n\n" + "\n".join(f"- {p}" for p in result.problems[""]))
        if query.strip():
            shown = form.search(specs, query)
            st.caption(f"{len(shown)} setting(s) match '{query.strip()}'.")
        else:
            shown = _section(prefix, specs, result)
        base_values = {s.path: s.value for s in form.field_specs(base)}
        _fields(prefix, shown, result, edits, base_values, searching=bool(query.strip()))
        edited = _download(prefix, base, result)
    return edited


def _section(prefix: str, specs: list[FieldSpec], result: FormResult) -> list[FieldSpec]:
    names = form.sections(specs)
    section_of = {str(s.parts[0]): s.section for s in specs}  # by a path's first key

    def label(name: str) -> str:
        inside = [s for s in specs if s.section == name]
        changed = sum(section_of.get(p.split(".", 1)[0]) == name for p, _, _ in result.fields)
        wrong = sum(bool(result.problems.get(s.path)) for s in inside)
        return name + (f" · {changed} changed" if changed else "") + (" · ⚠" if wrong else "")

    chosen = st.pills(
        "Section",
        names,
        key=f"{prefix}:section",
        default=names[0],
        format_func=label,
        required=True,
    )
    chosen = chosen if chosen in names else names[0]
    if about := form.section_about(chosen):
        st.caption(about)
    return [s for s in specs if s.section == chosen]


_SMALL = frozenset({"int", "float", "bool", "choice", "date", "text"})
_PER_ROW = 3


def _fields(
    prefix: str,
    shown: list[FieldSpec],
    result: FormResult,
    edits: dict[str, Any],
    base_values: dict[str, Any],
    searching: bool,
) -> None:
    """The fields under a heading per group (``ed.escalation``), single values three to a
    row, distributions, lists and YAML boxes across the page."""
    heading: str | None = None
    row: list[Any] = []
    for spec in shown:
        here = _group_of(spec, searching)
        if here != heading:
            row = []
            if here:
                st.markdown(f"**{here}**")
            heading = here
        label = spec.short_label if here else spec.label
        if spec.kind not in _SMALL:
            row = []
            _field(prefix, spec, label, result, edits, base_values)
            continue
        if not row:
            row = list(st.columns(_PER_ROW))
        with row.pop(0):
            _field(prefix, spec, label, result, edits, base_values)


def _group_of(spec: FieldSpec, searching: bool) -> str:
    """The group a field sits in (``ed.escalation``), for a heading; searching, its section
    too (results come from every section)."""
    parts = [str(p) for p in spec.parts]
    return ".".join(parts[:-1]) if len(parts) > 2 or searching else ""


# ---------------------------------------------------------------- one field


def _field(
    prefix: str,
    spec: FieldSpec,
    label: str,
    result: FormResult,
    edits: dict[str, Any],
    base_values: dict[str, Any],
) -> None:
    key = f"{prefix}:w:{spec.path}"
    changed = form.is_changed(spec, result.fields) and spec.kind != "group"
    if spec.kind == "distribution":
        _distribution(prefix, spec, label, key, edits)
    elif spec.kind == "group":
        _group(prefix, spec, label, key, edits, base_values.get(spec.path))
    elif spec.kind == "table":
        _table(spec, label, key, edits)
    else:
        _seed(key, spec, edits)
        _widget(prefix, spec, label, key)
    if changed or spec.path in edits:
        was = base_values.get(spec.path, form.MISSING)
        text = "not set" if was is form.MISSING else "off" if was is None else show_value(was)
        short = len(text) <= 40 and not any(c in text for c in "[]{}")
        st.button(
            (f":orange[changed, was {text}]" if short else ":orange[changed]") + " · reset"
            if changed
            else "reset",
            key=f"{prefix}:reset:{spec.path}",
            on_click=_reset,
            args=(prefix, [spec.path]),
            type="tertiary",
            help="Back to the baseline's value.",
        )
    for problem in result.problems.get(spec.path, []):
        st.error(problem, icon=":material/error:")


def _seed(key: str, spec: FieldSpec, edits: dict[str, Any]) -> None:
    """Put the value to show in the widget's state before it is drawn: the edit if there is
    one, else the value in the edited scenario (updated if a group around it changed)."""
    value = edits[spec.path] if spec.path in edits else _shown(spec)
    seeded = f"{key}:seeded"
    if key not in st.session_state or (
        spec.path not in edits and st.session_state.get(seeded) != repr(value)
    ):
        st.session_state[key] = value
        st.session_state[seeded] = repr(value)


def _shown(spec: FieldSpec) -> Any:
    value = form.widget_value(spec)
    if spec.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if spec.kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.kind == "choice" and value is None:
        return _NONE
    return value


def _widget(prefix: str, spec: FieldSpec, label: str, key: str) -> None:
    common: dict[str, Any] = {
        "key": key,
        "help": spec.help,
        "on_change": _store,
        "args": (prefix, spec.path, key),
    }
    if spec.kind == "int":
        st.number_input(label, step=1, **({"value": None} if spec.nullable else {}), **common)
    elif spec.kind == "float":
        step = 0.01 if "0-1" in spec.unit or spec.allowed == "0 to 1" else 0.1
        st.number_input(
            label, step=step, format="%g", **({"value": None} if spec.nullable else {}), **common
        )
    elif spec.kind == "bool":
        st.toggle(label, **common)
    elif spec.kind == "choice":
        options = [*spec.options, *([_NONE] if spec.nullable else [])]
        st.selectbox(label, options, **common)
    elif spec.kind == "choices":
        st.multiselect(label, list(spec.options), **common)
    elif spec.kind == "date":
        st.date_input(label, **common)
    elif spec.kind == "long_text":
        st.text_area(label, height=80, **common)
    elif spec.kind == "yaml":
        lines = str(st.session_state.get(key) or "").count("\n") + 1
        st.text_area(label, height=min(160 if spec.entries else 300, 40 + 22 * lines), **common)
    else:  # text, numbers, texts
        st.text_input(label, **common)


def _table(spec: FieldSpec, label: str, key: str, edits: dict[str, Any]) -> None:
    """A list of groups of single values as a table with a row per entry (rows can be added
    and deleted). The editor keeps its own changes on top of the rows it was first given, so
    those rows stay as they were while it is on screen; its result goes into the edits."""
    import pandas as pd

    seed = f"{key}:seed"
    current = edits[spec.path] if spec.path in edits else form.widget_value(spec)
    if spec.path not in edits and st.session_state.get(seed) != current:
        for name in [k for k in st.session_state if k == key or str(k).startswith(key + ":")]:
            del st.session_state[name]  # first drawn, or a group around it changed
    if seed not in st.session_state:
        st.session_state[seed] = [dict(row) for row in current]
    names = [c[0] for c in spec.columns]
    frame = pd.DataFrame(st.session_state[seed], columns=names)
    st.markdown(label, help=spec.help)
    edited = st.data_editor(
        frame,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={c[0]: _column(*c) for c in spec.columns},
    )
    rows = form.parse(spec, edited)
    if rows != (edits[spec.path] if spec.path in edits else form.parse(spec, frame)):
        edits[spec.path] = rows
        st.rerun()  # the edits are read at the top of the page: show what they make


def _column(name: str, kind: str, options: tuple[Any, ...], about: str) -> Any:
    if options:
        return st.column_config.SelectboxColumn(name, options=list(options), help=about)
    if kind == "whole number":
        return st.column_config.NumberColumn(name, step=1, help=about)
    if kind == "number":
        return st.column_config.NumberColumn(name, format="%g", help=about)
    if kind == "true/false":
        return st.column_config.CheckboxColumn(name, help=about)
    return st.column_config.TextColumn(name, help=about)


def _store(prefix: str, path: str, key: str) -> None:
    value = st.session_state.get(key)
    st.session_state[f"{prefix}:edits"][path] = None if value == _NONE else value


def _distribution(
    prefix: str, spec: FieldSpec, label: str, key: str, edits: dict[str, Any]
) -> None:
    """A distribution as its type and its parameters, side by side."""
    current = edits.get(spec.path, form.widget_value(spec)) or {}
    dist_key, seeded = f"{key}:dist", f"{key}:seeded"
    if spec.path not in edits and st.session_state.get(seeded) != repr(current):
        for name in [k for k in st.session_state if str(k).startswith(key + ":")]:
            del st.session_state[name]  # a group around it changed: draw it afresh
    if dist_key not in st.session_state:
        st.session_state[dist_key] = current.get("dist", _NONE)
        st.session_state[seeded] = repr(current)
    options = [*DIST_NAMES, *([_NONE] if spec.nullable else [])]
    args = (prefix, spec, key)
    params = (
        [] if st.session_state[dist_key] == _NONE else form.dist_params(st.session_state[dist_key])
    )
    columns = st.columns(1 + max(2, len(params)))
    columns[0].selectbox(
        label, options, key=dist_key, help=spec.help, on_change=_store_dist, args=args
    )
    dist = st.session_state[dist_key]
    st.session_state[f"{key}:was"] = dist
    for column, (name, is_list, optional) in zip(columns[1:], params, strict=False):
        pkey = f"{key}:{dist}:{name}"
        if pkey not in st.session_state:
            value = current.get(name) if current.get("dist") == dist else None
            st.session_state[pkey] = _param_text(value) if is_list else _float(value)
        label = name + (" (optional)" if optional else "")
        if is_list:
            column.text_input(label, key=pkey, on_change=_store_dist, args=args)
        else:
            column.number_input(
                label, key=pkey, value=None, step=0.1, format="%g", on_change=_store_dist, args=args
            )


def _param_text(value: Any) -> str:
    return ", ".join(f"{v:g}" for v in value) if isinstance(value, list) else ""


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _store_dist(prefix: str, spec: FieldSpec, key: str) -> None:
    dist = st.session_state.get(f"{key}:dist")
    edits = st.session_state[f"{prefix}:edits"]
    if dist in (None, _NONE):
        edits[spec.path] = None
        return
    was = st.session_state.get(f"{key}:was")
    if was not in (None, _NONE, dist):  # a new type: start its mean where the old one was
        old = {
            "dist": was,
            **{n: st.session_state.get(f"{key}:{was}:{n}") for n, *_ in form.dist_params(was)},
        }
        guess = form.dist_mean(form.parse(spec, old))
        for name in ("mean", "value"):
            if guess is not None and st.session_state.get(f"{key}:{dist}:{name}") is None:
                st.session_state[f"{key}:{dist}:{name}"] = round(guess, 4)
        st.session_state[f"{key}:was"] = dist
    value: dict[str, Any] = {"dist": dist}
    for name, _, _ in form.dist_params(dist):
        value[name] = st.session_state.get(f"{key}:{dist}:{name}")
    edits[spec.path] = value


def _group(
    prefix: str, spec: FieldSpec, label: str, key: str, edits: dict[str, Any], base: Any
) -> None:
    """An optional group: a switch; switched on from nothing, a box of its keys to fill in."""
    on_key = f"{key}:on"
    if on_key not in st.session_state or spec.path not in edits:
        st.session_state[on_key] = spec.value not in (None, form.MISSING)
    st.toggle(
        f"{spec.path}: use",
        key=on_key,
        help=spec.help,
        on_change=_switch,
        args=(prefix, spec, key, base),
    )
    if st.session_state[on_key] and isinstance(edits.get(spec.path), str):
        if key not in st.session_state:
            st.session_state[key] = edits[spec.path]
        st.text_area(
            f"{spec.path}: its settings (YAML; required keys are marked)",
            key=key,
            height=min(400, 60 + 22 * spec.template.count("\n")),
            on_change=_store,
            args=(prefix, spec.path, key),
        )
        st.caption("Once it is valid, its keys also appear as fields of their own.")


def _switch(prefix: str, spec: FieldSpec, key: str, base: Any) -> None:
    edits = st.session_state[f"{prefix}:edits"]
    if not st.session_state.get(f"{key}:on"):
        edits[spec.path] = None
    elif base not in (None, form.MISSING):
        edits.pop(spec.path, None)  # back to the baseline's settings
    else:
        st.session_state[key] = spec.template
        edits[spec.path] = spec.template


# ---------------------------------------------------------------- changes and the file


def _changed_list(prefix: str, base: Scenario, result: FormResult, edits: dict[str, Any]) -> None:
    """What differs from the baseline, each with a reset; while a problem remains (so there is
    no scenario to compare yet), the settings edited so far."""
    if result.problems:
        st.warning(
            f"{sum(map(len, result.problems.values()))} problem(s) to fix before this "
            "scenario can run; each is shown under its setting (its section is marked ⚠).",
            icon=":material/warning:",
        )
        rows = [(path, None, None) for path in edits]
        title = f"**Edited so far ({len(rows)})**"
    elif result.fields:
        rows = result.fields
        title = f"**Changed from the baseline ({len(rows)})**"
    else:
        st.caption("Nothing changed from the baseline yet.")
        return
    st.markdown(title)
    for path, old, new in rows:
        line = st.columns([6, 1], vertical_alignment="center")
        text = form.describe_change(path, old, new).split(": ", 1)[1] if result.ok else ""
        line[0].markdown(f"`{path}`" + (f": {text}" if text else ""))
        line[1].button(
            "Reset",
            key=f"{prefix}:undo:{path}",
            on_click=_reset,
            args=(prefix, form.edits_for(path, edits)),
        )


def _reset(prefix: str, paths: list[str]) -> None:
    edits = st.session_state[f"{prefix}:edits"]
    for path in paths:
        edits.pop(path, None)
        key = f"{prefix}:w:{path}"
        for name in [k for k in st.session_state if k == key or str(k).startswith(key + ":")]:
            del st.session_state[name]


def _reset_all(prefix: str) -> None:
    _reset(prefix, list(st.session_state[f"{prefix}:edits"]))


def _download(prefix: str, base: Scenario, result: FormResult) -> Scenario | None:
    """The file to download, and the scenario read back from it as an upload would be."""
    if not result.ok or not result.changes:
        return None
    assert result.scenario is not None
    text = form.form_yaml(base, result)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    cache = st.session_state.setdefault(f"{prefix}:loaded", {})
    if digest not in cache:
        try:
            cache.clear()
            cache[digest] = form.load_form_file(text, engine.scenarios_folder())
        except ScenarioError as error:  # the file must load as it is written; say so if not
            cache[digest] = error
    loaded = cache[digest]
    if isinstance(loaded, ScenarioError):
        st.error(f"The file would not load back: {loaded}. Please report this scenario.")
        return None
    st.download_button(
        "Download these settings as a scenario file (YAML)",
        text,
        file_name=form.file_name(result.scenario),
        mime="text/yaml",
        key=f"{prefix}:download",
        help="Every setting written out, so the file loads from any folder: "
        "flowsim validate FILE, or upload it here next time.",
    )
    return loaded
