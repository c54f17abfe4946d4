"""The `netvet` command (console script `netvet = netvet.cli.main:app`).

Each of netvet's questions is one sub-app in its own module, registered below with one line.
Exit codes everywhere: 0 ok/same, 1 differences or violations found, 2 error.

The sub-apps are imported when their command is looked up, not here: each pulls in its own
engine (the policy models, the OUI registry, the inventory importers), and a run of one command
should not pay for the others (~0.1 s CPU on every `netvet firmware compare`). `netvet --help`
looks every command up, so it still lists them all.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from netvet import __version__

# command name -> (module under netvet.cli, attribute): a Typer sub-app, or a function that is
# one command by itself (`audit` answers "is it allowed here?" for a whole inventory).
COMMANDS = {
    "audit": ("audit", "audit"),
    "firmware": ("firmware", "app"),
    "inventory": ("inventory", "app"),
    "policy": ("policy", "app"),
    "registry": ("registry", "app"),
}


class LazyGroup(TyperGroup):
    """The top-level group: the commands of COMMANDS, each built on first lookup."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in COMMANDS:
            cmd = _load(cmd_name)
            self.add_command(cmd, cmd_name)
        return cmd


def _load(name: str) -> Any:
    module, attr = COMMANDS[name]
    target = getattr(importlib.import_module(f"netvet.cli.{module}"), attr)
    cmd: Any
    if isinstance(target, typer.Typer):
        cmd = typer.main.get_group(target)  # a group even with one command, as add_typer does
    else:
        one = typer.Typer(add_completion=False)
        one.command(name)(target)
        cmd = typer.main.get_command(one)
    cmd.name = name
    return cmd


app = typer.Typer(
    name="netvet",
    cls=LazyGroup,
    help="Vet telecom equipment: who made it, is it allowed here, is its firmware what was "
    "reviewed.\n\nExit codes: 0 ok/same, 1 differences or violations found, 2 error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netvet {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Vet telecom equipment: who made it, is it allowed here, is its firmware what was reviewed."""


if __name__ == "__main__":  # python -m netvet.cli.main
    app()
