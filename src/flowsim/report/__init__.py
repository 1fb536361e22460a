"""Report: figures, the HTML report and the files a run writes (matplotlib, pandas).

`RunResults` reduces replication logs as they arrive and writes a run's files;
`render_run_report` builds the HTML report (its first page for a board); the figure functions
take plain tables or arrays and return matplotlib figures.
"""

from flowsim.report.figures import (
    ed_time_figure,
    figure_png,
    handover_figure,
    occupancy_figure,
)
from flowsim.report.html import render_run_report
from flowsim.report.labels import format_ci, format_value, kpi_group, kpi_label
from flowsim.report.outputs import OUTPUT_FILES, RunResults, event_table, patient_table

__all__ = [
    "OUTPUT_FILES",
    "RunResults",
    "ed_time_figure",
    "event_table",
    "figure_png",
    "format_ci",
    "format_value",
    "handover_figure",
    "kpi_group",
    "kpi_label",
    "occupancy_figure",
    "patient_table",
    "render_run_report",
]
