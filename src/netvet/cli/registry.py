"""`netvet registry ...`: the IEEE MAC-block and IANA enterprise-number registries that name
makers.

Thin by design: the snapshots, their dates and the downloads belong in
netvet.inventory.registry; this module only calls them and reports.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from netvet.cli.common import EXIT_ERROR, EXIT_OK, run_guarded
from netvet.inventory.errors import RegistryUnavailable
from netvet.inventory.registry import store
from netvet.report.safe import printable

app = typer.Typer(
    help="The IEEE OUI and IANA enterprise-number registries used to name makers.",
    no_args_is_help=True,
)

NAMES = {"oui": "IEEE OUI (MA-L, MA-M, MA-S, IAB)", "pen": "IANA enterprise numbers"}

UPDATE_HELP = """Download fresh copies of the registries from the IEEE and IANA into the user
cache ($XDG_CACHE_HOME/netvet/registries). A registry is written only when all of its files
arrived complete; otherwise the snapshot in use stays. Identification uses the newer of the
bundled and cached snapshots.

Exit codes: 0 updated, 2 a registry could not be updated (offline, refused, incomplete)."""


def _line(text: str) -> None:
    sys.stderr.write(printable(" ".join(text.split())) + "\n")


@app.command("update", help=UPDATE_HELP)
def update_command(
    oui: Annotated[
        bool, typer.Option("--oui/--no-oui", help="Update the IEEE MAC-block registries.")
    ] = True,
    pen: Annotated[
        bool, typer.Option("--pen/--no-pen", help="Update the IANA enterprise numbers.")
    ] = True,
    timeout: Annotated[
        float, typer.Option(min=0.1, metavar="S", help="Seconds to wait for each server.")
    ] = 30.0,
) -> None:
    if not (oui or pen):
        _line("netvet: error: nothing to update: --no-oui and --no-pen")
        raise typer.Exit(EXIT_ERROR)

    def work() -> int:
        from netvet.inventory.registry import update

        # The URLs are read here, at call time, so that a test or a mirror can replace them.
        jobs = {
            "oui": lambda: update.update_oui(urls=dict(update.IEEE_URLS), timeout=timeout),
            "pen": lambda: update.update_pen(url=update.PEN_URL, timeout=timeout),
        }
        code = EXIT_OK
        for registry, wanted in (("oui", oui), ("pen", pen)):
            if not wanted:
                continue
            if sys.stderr.isatty():
                _line(f"netvet: downloading the {NAMES[registry]} registry...")
            try:
                info = jobs[registry]()
            except RegistryUnavailable as exc:
                _line(f"netvet: error: {exc}")
                code = EXIT_ERROR
                continue
            _line(
                f"netvet: {NAMES[registry]}: {info.rows} entries dated {info.date} "
                f"written to {info.location}"
            )
        return code

    raise typer.Exit(run_guarded(work))


@app.command("show")
def show_command() -> None:
    """Show the bundled and cached registry snapshots: dates, entries, and which is in use."""

    def work() -> int:
        lines = []
        for registry, name in NAMES.items():
            bundled = store.read_info(store.bundled_dir(), registry, "bundled")
            cache = store.cache_dir()
            cached = store.read_info(cache, registry, str(cache))
            in_use = store.choose(registry, None, None)[1]
            lines.append(f"{name}:")
            for label, info in (("bundled", bundled), ("cached", cached)):
                if info is None:
                    where = "" if label == "bundled" else f" (none in {cache})"
                    lines.append(f"  {label:<8} -{where}")
                    continue
                mark = "  (in use)" if info.location == in_use.location else ""
                place = "" if label == "bundled" else f" in {info.location}"
                lines.append(f"  {label:<8} {info.date}  {info.rows} entries{place}{mark}")
                lines += [f"           {s.id}: {s.date}, {s.rows} rows" for s in info.sources]
        print("\n".join(printable(line) for line in lines))
        return EXIT_OK

    raise typer.Exit(run_guarded(work))
