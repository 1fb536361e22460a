"""Terminal tables that never cut a number.

rich squeezes a table to the terminal's width and, by default, ends a cell that no longer fits
with "…": at 80 columns the bottleneck table showed "1,1…" for 1,184.3. Every table the CLI
prints goes through `show`, which

- keeps each number whole: a right-aligned (numeric) column is never narrower than its longest
  number (a cell such as "+0.8 (0.6 – 1.0)" may still break at its spaces), and what is too
  long for a column folds onto the next line instead of being cut;
- lets the frame and the words give way first: a table too wide for the width loses its
  vertical rules and outer padding, then text columns and headers wrap (at spaces where they
  can) to make room; the caption wraps at words;
- prints full rows when the output is not a terminal (piped to a file or another program) and
  no ``COLUMNS`` is set, so nothing a script reads is wrapped or cut; with ``COLUMNS`` set, it
  fits that width.
"""

from __future__ import annotations

import os

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = ["fit", "show"]

_WIDEST = 10_000
"""Columns to measure a table's natural width in (wider than any table)."""
_LONG_WORD = 12
"""A header word longer than this folds, to leave room for the others."""


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def fit(table: Table) -> Table:
    """``table`` set up so that no number is cut (see the module docstring); returned for
    chaining. Numeric columns are the right-aligned ones."""
    for column in table.columns:
        column.overflow = "fold"
        if column.justify != "right":
            continue
        tokens = [t for cell in column.cells for t in _plain(cell).split()]
        if tokens:
            column.min_width = max(column.min_width or 0, max(cell_len(t) for t in tokens))
    return table


def _squeeze(table: Table) -> None:
    """Room for a table too wide for its width: no vertical rules, no outer edge or its
    padding, and each numeric column held to its longest number or header word (at most
    `_LONG_WORD`: a long scenario name folds), so the columns of words take what is left."""
    table.box = box.SIMPLE_HEAD
    table.show_edge = False
    table.pad_edge = False
    table.collapse_padding = True
    for column in table.columns:
        if column.justify != "right":
            continue
        words = [cell_len(w) for w in _plain(column.header).split()]
        least = max([column.min_width or 1, *(min(w, _LONG_WORD) for w in words)])
        column.min_width = column.max_width = least


def natural_width(console: Console, table: Table) -> int:
    """The width ``table`` takes when nothing has to wrap."""
    return Measurement.get(console, console.options.update_width(_WIDEST), table).maximum


def show(console: Console, table: Table) -> None:
    """Print ``table`` on ``console`` with every number whole: fitted to the terminal (or to
    ``COLUMNS``), or at its full width when the output is not a terminal and ``COLUMNS`` is
    unset."""
    fit(table)
    if console.is_terminal or os.environ.get("COLUMNS", "").isdigit():
        if natural_width(console, table) > console.width:
            _squeeze(table)
        console.print(table, soft_wrap=False, crop=False)
        return
    width = max(console.width, natural_width(console, table))
    wide = Console(
        file=console.file,
        width=width,
        highlight=False,
        soft_wrap=True,
        color_system=console.color_system,  # type: ignore[arg-type]
    )
    wide.print(table, soft_wrap=False, crop=False)
