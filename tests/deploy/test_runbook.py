"""docs/deployment.md names only real commands, options and files."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from just_ingredients import cli

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")


def test_every_cli_command_in_the_runbook_exists() -> None:
    group = typer.main.get_command(cli.app)
    commands = set(group.commands)  # type: ignore[attr-defined]
    used = set(re.findall(r"just-ingredients ([a-z][a-z-]+)", RUNBOOK))
    used -= {"db", "staging", "db-restore"}  # app names: just-ingredients-db, -staging, …
    assert used, "no command found"
    assert used <= commands, used - commands


def test_every_cli_option_in_the_runbook_exists() -> None:
    group = typer.main.get_command(cli.app)
    for name in ("smoke", "cost-report", "archive"):
        command = group.commands[name]  # type: ignore[attr-defined]
        known = {opt for p in command.params for opt in p.opts + p.secondary_opts}
        used = set()
        for line in RUNBOOK.splitlines():
            for match in re.finditer(rf"just-ingredients {name}\b([^`\n]*)", line):
                used |= set(re.findall(r"(--[a-z][a-z-]+)", match.group(1)))
        assert used <= known, (name, used - known)


def test_every_script_option_in_the_runbook_exists() -> None:
    for script in ("deploy.sh", "secrets.sh", "build-image.sh"):
        text = (ROOT / "deploy" / "scripts" / script).read_text(encoding="utf-8")
        for line in RUNBOOK.splitlines():
            for match in re.finditer(rf"{re.escape(script)}([^`\n]*)", line):
                for option in re.findall(r"(--[a-z][a-z-]+)", match.group(1)):
                    assert f"{option})" in text or f"{option}|" in text, (script, option)


def test_files_named_in_the_runbook_exist() -> None:
    for path in re.findall(r"`((?:deploy|docs|src|samples|bench|\.github)/[^`\s]+)`", RUNBOOK):
        assert (ROOT / path.rstrip("/")).exists(), path
