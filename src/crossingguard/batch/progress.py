"""A rich progress bar for batch runs: rows done of the input, rows/s and time left."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RowsPerSecond(ProgressColumn):
    """Rows per second over rich's recent-speed window (blank until it has two samples)."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(
            "" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed"
        )


class RowProgress:
    """Counts rows (scored and rejected) against the input total; already-committed rows of a
    resumed run start the bar, so the ETA covers only what is left."""

    def __init__(self, total: int, done: int, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            RowsPerSecond(),
            TimeElapsedColumn(),
            "eta",
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self.task = self.progress.add_task("scoring", total=total, completed=done)

    def __enter__(self) -> RowProgress:  # noqa: PYI034
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def advance(self, rows: int) -> None:
        self.progress.advance(self.task, rows)
