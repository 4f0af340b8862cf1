"""`digest migrate-state`: the state dir's SQLite state copied to a PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import click

from ..config.settings import load_settings
from ..errors import StateError
from ..models.console import TableCopy
from ..pipeline import state
from .main import config_option, main


@main.command("migrate-state")
@click.option("--to", "url", required=True, metavar="URL", help="The PostgreSQL database: postgresql://…")
@click.option("--force", is_flag=True, help="Replace the rows a non-empty target already holds.")
@config_option
def migrate_state(url: str, force: bool, config_path: Path) -> None:
    """Copy the state (ledger, archive, subscribers, ...) into PostgreSQL.

    Every table of the SQLite state in state_dir is copied in one
    transaction and counted in both databases; a table whose counts differ
    fails the command. A target that already holds rows is refused unless
    --force. Stop `digest serve` and cron runs first, then set state_url to
    the same URL in digest.yaml.

    \b
    Examples:
      digest migrate-state --to postgresql://digest@db.example.org/digest
      PGPASSWORD=… digest migrate-state --to postgresql://digest@localhost:5432/digest --force
    """
    settings = load_settings(config_path)
    copied = state.migrate_state(settings, url, replace=force)
    click.echo(counts_table(copied))
    wrong = [table.table for table in copied if table.source != table.target]
    if wrong:
        raise StateError(f"the counts differ in {', '.join(wrong)}", "nothing was lost from the SQLite file")
    click.echo(f"Copied {sum(t.source for t in copied)} rows in {len(copied)} tables; set state_url: {url}")


def counts_table(copied: list[TableCopy]) -> str:
    width = max([len("table"), *(len(table.table) for table in copied)])
    lines = [f"{'table':<{width}}  {'sqlite':>9}  {'postgresql':>10}"]
    for table in copied:
        mark = "" if table.source == table.target else "  differs"
        lines.append(f"{table.table:<{width}}  {table.source:>9}  {table.target:>10}{mark}")
    return "\n".join(lines)
