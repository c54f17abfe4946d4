"""The rich console every text presenter renders into: plain text off a TTY, no markup."""

from __future__ import annotations

from io import StringIO

from rich.console import Console


def text_console(tty: bool, width: int) -> tuple[Console, StringIO]:
    """A console writing into a buffer. ANSI colour only when `tty` (never in files or pipes);
    markup, highlighting and emoji are off because the text comes from hostile inputs."""
    buf = StringIO()
    console = Console(
        file=buf,
        force_terminal=tty,
        no_color=None if tty else True,  # on a terminal, rich honours NO_COLOR
        highlight=False,
        markup=False,
        emoji=False,
        width=width,
    )
    return console, buf
