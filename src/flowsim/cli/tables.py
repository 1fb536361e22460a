"""Kept so that ``from flowsim.cli.tables import show`` still works: tables are printed with
`flowsim.cli.common.print_table` (command modules import only `flowsim.cli.common`, which
tests/cli/test_cli_package.py checks). Import that instead; this module goes once nothing
imports it."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flowsim.cli.common import print_table

__all__ = ["show"]


def show(console: Console, table: Table) -> None:
    """`print_table` on ``console``."""
    print_table(table, console)
