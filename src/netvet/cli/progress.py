"""A live 'bytes processed' display on stderr while a comparison runs.

There is no honest total: nested containers are decompressed and read too, so the bytes read
exceed the two input sizes by an unknown factor. The display shows bytes, rate and elapsed time
with a spinner, never a percentage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.text import Text

Callback = Callable[[int], None]


class _BytesColumn(ProgressColumn):
    """Bytes processed so far, without a total."""

    def render(self, task: Task) -> Text:
        return Text(f"{decimal(int(task.completed))} processed", style="progress.download")


@contextmanager
def byte_progress(enabled: bool) -> Iterator[Callback | None]:
    """Yield a callback that counts bytes on a live display, or None when there is no display.

    The display exists only when `enabled` and stderr is a terminal, so pipes, files and CI logs
    get no control sequences. It disappears (transient) when the block ends.
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("comparing"),
        _BytesColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("compare", total=None)
        yield lambda n: progress.advance(task, n)
