"""The ``b24kit`` command line: each command parses, calls one library function, renders."""

from __future__ import annotations

import typer

from . import call, demo, doctor, emulator

app = typer.Typer(
    name="b24kit",
    help="Bitrix24 integrator's toolkit: emulator, REST client, sync profiles, robots, jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(emulator.app, name="emulator")
demo.register(app)
call.register(app)
doctor.register(app)


def main() -> None:
    app()
