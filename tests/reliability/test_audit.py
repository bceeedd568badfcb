"""Issue #8, dependency audit: scripts/audit_deps.py against a local fake of PyPI's project
JSON (`/pypi/<name>/json`, the shapes PyPI returns), run as a subprocess the way CI runs it.
No test here reaches the internet."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit_deps.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


audit = load_script()


def project(version: str, *vulns: dict[str, Any]) -> dict[str, Any]:
    """A trimmed /pypi/<name>/json document (the fields the audit reads, plus a few others)."""
    return {
        "info": {"name": "x", "version": version, "requires_python": ">=3.9", "yanked": False},
        "last_serial": 1,
        "releases": {version: []},
        "urls": [],
        "vulnerabilities": list(vulns),
    }


def vuln(
    id_: str,
    aliases: list[str] | None = None,
    fixed_in: list[str] | None = None,
    withdrawn: str | None = None,
) -> dict[str, Any]:
    return {
        "aliases": aliases or [],
        "details": f"Details of {id_}.\nSecond line.",
        "fixed_in": fixed_in or [],
        "id": id_,
        "link": f"https://osv.dev/vulnerability/{id_}",
        "source": "osv",
        "summary": None,
        "withdrawn": withdrawn,
    }


@dataclass
class FakeIndex:
    url: str
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    #: paths answered 500 this many more times before their route
    failures: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, doc: dict[str, Any]) -> None:
        self.routes[f"/pypi/{name}/json"] = (200, json.dumps(doc).encode())


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    port = free_port()
    fake = FakeIndex(url=f"http://127.0.0.1:{port}/pypi")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.hits.append(self.path)
            if fake.failures.get(self.path, 0) > 0:
                fake.failures[self.path] -= 1
                status, body = 500, b"oops"
            else:
                status, body = fake.routes.get(self.path, (404, b'{"message": "Not Found"}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def write_lock(path: Path, *packages: tuple[str, str]) -> Path:
    parts = [
        'version = 1\nrevision = 5\nrequires-python = ">=3.11"\n',
        '[[package]]\nname = "demo"\nversion = "0.1.0"\nsource = { editable = "." }\n'
        'dependencies = [{ name = "attrs" }]\n',
        '[[package]]\nname = "localdep"\nversion = "1.0"\nsource = { directory = "libs/x" }\n',
    ]
    for name, version in packages:
        parts.append(
            f'[[package]]\nname = "{name}"\nversion = "{version}"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
            f'sdist = {{ url = "https://files.example/{name}-{version}.tar.gz" }}\n'
        )
    path.write_text("\n".join(parts))
    return path


def run(
    tmp_path: Path, index: FakeIndex | str, exceptions: str = "", *extra: str
) -> subprocess.CompletedProcess[str]:
    exc_file = tmp_path / "exceptions.toml"
    exc_file.write_text(exceptions)
    url = index if isinstance(index, str) else index.url
    argv = [sys.executable, str(SCRIPT), "--lock", str(tmp_path / "uv.lock"), "--index", url,
            "--exceptions", str(exc_file), "--timeout", "5", *extra]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def row(out: str, name: str, version: str) -> str:
    rows = [line for line in out.splitlines() if line.split()[:2] == [name, version]]
    assert len(rows) == 1, out
    return rows[0]


def test_all_at_latest_without_advisories_passes(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(tmp_path / "uv.lock", ("attrs", "26.1.0"), ("yarl", "1.25.1"))
    index.add("attrs", project("26.1.0"))
    index.add("yarl", project("1.25.1"))
    result = run(tmp_path, index)
    assert result.returncode == 0, result.stdout + result.stderr
    assert row(result.stdout, "attrs", "26.1.0").split()[2:] == ["26.1.0", "ok"]
    assert "PASS: 2 locked packages" in result.stdout
    assert "2 ok, 0 vulnerable, 0 unaudited" in result.stdout
    # the project itself and the directory source were not looked up
    assert sorted(index.hits) == ["/pypi/attrs/json", "/pypi/yarl/json"]


def test_an_advisory_on_the_locked_latest_fails(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(tmp_path / "uv.lock", ("attrs", "26.1.0"), ("ecdsa", "0.19.2"))
    index.add("attrs", project("26.1.0"))
    # PyPI lists the PYSEC and the GHSA record of one flaw separately, aliasing each other
    index.add(
        "ecdsa",
        project(
            "0.19.2",
            vuln("PYSEC-2026-1325", ["CVE-2024-23342", "GHSA-wj6h-64fc-37mp"]),
            vuln("GHSA-wj6h-64fc-37mp", ["CVE-2024-23342", "PYSEC-2026-1325"]),
        ),
    )
    result = run(tmp_path, index)
    assert result.returncode == 1, result.stdout + result.stderr
    line = row(result.stdout, "ecdsa", "0.19.2")
    assert "vulnerable" in line
    assert "PYSEC-2026-1325" in line
    assert "no fixed version" in line
    assert line.count("PYSEC-2026-1325") == 1  # one advisory, not two
    assert "https://osv.dev/vulnerability/PYSEC-2026-1325" in result.stdout
    assert "FAIL:" in result.stdout
    assert "1 vulnerable" in result.stdout


def test_an_advisory_exception_matches_an_alias(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(tmp_path / "uv.lock", ("ecdsa", "0.19.2"))
    index.add("ecdsa", project("0.19.2", vuln("PYSEC-2026-1325", ["GHSA-wj6h-64fc-37mp"])))
    exceptions = '[[exception]]\nid = "GHSA-wj6h-64fc-37mp"\nreason = "no P-256 signing here"\n'
    result = run(tmp_path, index, exceptions)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vulnerable (accepted)" in row(result.stdout, "ecdsa", "0.19.2")
    assert "no P-256 signing here" in result.stdout
    assert "warning" not in result.stdout


def test_a_withdrawn_advisory_is_ignored(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(tmp_path / "uv.lock", ("attrs", "26.1.0"))
    index.add(
        "attrs", project("26.1.0", vuln("GHSA-aaaa-bbbb-cccc", withdrawn="2026-01-02T00:00:00Z"))
    )
    result = run(tmp_path, index)
    assert result.returncode == 0, result.stdout + result.stderr
    assert row(result.stdout, "attrs", "26.1.0").split()[3] == "ok"
    assert "GHSA-aaaa-bbbb-cccc" not in result.stdout


def test_an_older_locked_version_is_unaudited_and_fails(tmp_path: Path, index: FakeIndex) -> None:
    # numpy twice, as uv locks it for python < 3.12 and >= 3.12
    write_lock(tmp_path / "uv.lock", ("numpy", "2.4.6"), ("numpy", "2.5.5"))
    index.add("numpy", project("2.5.5", vuln("GHSA-1111-2222-3333", fixed_in=["2.6.0"])))
    result = run(tmp_path, index)
    assert result.returncode == 1, result.stdout + result.stderr
    old = row(result.stdout, "numpy", "2.4.6")
    assert "unaudited" in old
    assert "older than latest (2.5.5), per-version record unreachable" in old
    # what the latest's record says is shown, not claimed for the older version
    assert "latest's record lists 1: GHSA-1111-2222-3333" in old
    assert "vulnerable" in row(result.stdout, "numpy", "2.5.5")
    assert index.hits == ["/pypi/numpy/json"]  # one request per name


def test_an_exception_accepts_the_older_version(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(tmp_path / "uv.lock", ("numpy", "2.4.6"), ("numpy", "2.5.5"))
    index.add("numpy", project("2.5.5"))
    exceptions = (
        '[[exception]]\nname = "numpy"\nversion = "2.4.6"\n'
        'reason = "newest release for Python 3.11"\n'
    )
    result = run(tmp_path, index, exceptions)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unaudited (accepted)" in row(result.stdout, "numpy", "2.4.6")
    assert "numpy 2.4.6: newest release for Python 3.11" in result.stdout
    assert "1 ok, 0 vulnerable, 1 unaudited; 1 accepted by exceptions, 0 failing" in result.stdout


def test_a_missing_record_is_unaudited_and_no_exception_covers_it(
    tmp_path: Path, index: FakeIndex
) -> None:
    write_lock(tmp_path / "uv.lock", ("attrs", "26.1.0"), ("ghost", "1.0"))
    index.add("attrs", project("26.1.0"))
    exceptions = '[[exception]]\nname = "ghost"\nversion = "1.0"\nreason = "r"\n'
    result = run(tmp_path, index, exceptions)
    assert result.returncode == 1, result.stdout + result.stderr
    line = row(result.stdout, "ghost", "1.0")
    assert "unaudited" in line
    assert "accepted" not in line
    assert "HTTP 404" in line
    assert "warning: stale" not in result.stdout  # it matches a locked package; no data
    assert index.hits.count("/pypi/ghost/json") == 1  # a 404 is not retried


def test_a_5xx_is_retried(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(tmp_path / "uv.lock", ("attrs", "26.1.0"))
    index.add("attrs", project("26.1.0"))
    index.failures["/pypi/attrs/json"] = 2
    result = run(tmp_path, index)
    assert result.returncode == 0, result.stdout + result.stderr
    assert index.hits.count("/pypi/attrs/json") == 3


def test_a_refused_connection_leaves_everything_unaudited(tmp_path: Path) -> None:
    write_lock(tmp_path / "uv.lock", ("attrs", "26.1.0"))
    result = run(tmp_path, f"http://127.0.0.1:{free_port()}/pypi")  # nothing listens there
    assert result.returncode == 1, result.stdout + result.stderr
    line = row(result.stdout, "attrs", "26.1.0")
    assert "unaudited" in line
    assert "record not fetched" in line
    assert "refused" in line.lower()


def test_a_stale_exception_warns_but_passes(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(tmp_path / "uv.lock", ("numpy", "2.5.5"))
    index.add("numpy", project("2.5.5"))
    exceptions = (
        '[[exception]]\nname = "numpy"\nversion = "2.4.6"\nreason = "old"\n\n'
        '[[exception]]\nname = "numpy"\nversion = "2.5.5"\nreason = "at latest now"\n\n'
        '[[exception]]\nid = "GHSA-dead-dead-dead"\nreason = "gone"\n'
    )
    result = run(tmp_path, index, exceptions)
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning: stale")]
    assert len(warnings) == 3, result.stdout
    assert any("numpy 2.4.6" in w for w in warnings)
    assert any("numpy 2.5.5" in w for w in warnings)
    assert any("GHSA-dead-dead-dead" in w for w in warnings)
    assert "3 stale exceptions" in result.stdout


def test_json_report(tmp_path: Path, index: FakeIndex) -> None:
    write_lock(
        tmp_path / "uv.lock", ("aiolimiter", "1.2.1"), ("ecdsa", "0.19.2"), ("yarl", "1.25.1")
    )
    index.add("aiolimiter", project("1.3.0"))
    index.add("ecdsa", project("0.19.2", vuln("PYSEC-2026-1325", ["CVE-2024-23342"])))
    index.add("yarl", project("1.25.1"))
    exceptions = (
        '[[exception]]\nname = "aiolimiter"\nversion = "1.2.1"\nreason = "pinned by PTB"\n\n'
        '[[exception]]\nid = "GHSA-dead-dead-dead"\nreason = "gone"\n'
    )
    result = run(tmp_path, index, exceptions, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is False
    assert report["index"] == index.url
    assert report["counts"] == {"packages": 3, "ok": 1, "vulnerable": 1, "unaudited": 1,
                                "accepted": 1, "failing": 1}  # fmt: skip
    by_name = {p["name"]: p for p in report["packages"]}
    assert by_name["aiolimiter"]["status"] == "unaudited"
    assert by_name["aiolimiter"]["accepted"] is True
    assert by_name["aiolimiter"]["latest"] == "1.3.0"
    assert by_name["aiolimiter"]["exception_reasons"] == ["pinned by PTB"]
    assert by_name["ecdsa"]["status"] == "vulnerable"
    assert by_name["ecdsa"]["accepted"] is False
    [adv] = by_name["ecdsa"]["advisories"]
    assert adv["id"] == "PYSEC-2026-1325"
    assert adv["aliases"] == ["CVE-2024-23342"]
    assert adv["fixed_in"] == []
    assert adv["link"].endswith("PYSEC-2026-1325")
    assert by_name["yarl"]["status"] == "ok"
    assert set(by_name["yarl"]) == set(by_name["ecdsa"])
    assert report["stale_exceptions"] == [
        "exception for advisory GHSA-dead-dead-dead matches no advisory of a locked package"
    ]
    assert "warning: stale" in result.stderr


@pytest.mark.parametrize(
    ("lock", "exceptions", "message"),
    [
        (None, "", "cannot read lock file"),
        ("not = [valid", "", "not valid TOML"),
        ("version = 1\n", "", "no [[package]]"),
        ("ok", '[[exception]]\nname = "x"\nversion = "1"\n', "has no reason"),
        ("ok", '[[exception]]\nreason = "why"\n', "needs either `id`"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, index: FakeIndex, lock: str | None, exceptions: str, message: str
) -> None:
    if lock == "ok":
        write_lock(tmp_path / "uv.lock", ("attrs", "26.1.0"))
    elif lock is not None:
        (tmp_path / "uv.lock").write_text(lock)
    result = run(tmp_path, index, exceptions)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not index.hits


def test_bad_option_exits_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--no-such-option"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_the_repo_lock_parses() -> None:
    """The real uv.lock (no network): registry packages only, numpy locked twice."""
    locked = audit.parse_lock((ROOT / "uv.lock").read_text())
    pairs = {(p.name, p.version) for p in locked}
    names = [p.name for p in locked]
    assert "python-telegram-bot" in names
    assert "just-ingredients" not in names  # the project itself (editable)
    numpy = sorted(v for n, v in pairs if n == "numpy")
    assert len(numpy) == 2, numpy
    assert audit.compare_versions(numpy[0], numpy[1]) == -1
    assert len(pairs) == len(locked)


def test_the_repo_exceptions_file_parses() -> None:
    exceptions = audit.parse_exceptions((ROOT / "deploy" / "audit-exceptions.toml").read_text())
    assert all(e.reason for e in (*exceptions.versions, *exceptions.advisories))


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("2.4.6", "2.5.5", -1),
        ("2.5.5", "2.5.5", 0),
        ("1.0", "1.0.0", 0),
        ("2026.10.19.post1", "2026.10.19.post1", 0),
        ("2026.10.19", "2026.10.19.post1", -1),
        ("1.10", "1.9", 1),
        ("2.0.0rc1", "2.0.0", None),
    ],
)
def test_compare_versions(a: str, b: str, order: int | None) -> None:
    assert audit.compare_versions(a, b) == order


def test_ci_runs_the_audit() -> None:
    yaml = pytest.importorskip("yaml")
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    runs = [step.get("run", "") for job in ci["jobs"].values() for step in job["steps"]]
    assert any("scripts/audit_deps.py" in run for run in runs)
