"""The ``b24kit`` command line: each command parses, calls one library function, renders."""

from __future__ import annotations

import typer

from . import call, demo, doctor, emulator, events, jobs, profile, robots, rules, serve, sync

app = typer.Typer(
    name="b24kit",
    help="Bitrix24 integrator's toolkit: emulator, REST client, sync profiles, robots, jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(emulator.app, name="emulator")
app.add_typer(profile.app, name="profile")
app.add_typer(sync.app, name="sync")
demo.register(app)
call.register(app)
doctor.register(app)
serve.register(app)
jobs.register(app)
robots.register(app)
rules.register(app)
events.register(app)


def main() -> None:
    app()
