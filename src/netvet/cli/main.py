"""The `netvet` command (console script `netvet = netvet.cli.main:app`).

Each of netvet's questions is one sub-app in its own module, registered below with one line.
Planned next to `firmware`: `inventory` (who made it?), `policy` and `audit` (is it allowed
here?), `registry` (OUI/PEN data). Exit codes everywhere: 0 ok/same, 1 differences or
violations found, 2 error.
"""

from __future__ import annotations

from typing import Annotated

import typer

from netvet import __version__
from netvet.cli import audit, firmware, inventory, policy, registry

app = typer.Typer(
    name="netvet",
    help="Vet telecom equipment: who made it, is it allowed here, is its firmware what was "
    "reviewed.\n\nExit codes: 0 ok/same, 1 differences or violations found, 2 error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Sub-apps, one per question; `audit` answers "is it allowed here?" for a whole inventory.
app.add_typer(firmware.app, name="firmware")
app.add_typer(inventory.app, name="inventory")
app.add_typer(policy.app, name="policy")
app.add_typer(registry.app, name="registry")
app.command("audit")(audit.audit)


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
