#!/usr/bin/env python3
"""Audit the packages pinned in uv.lock against PyPI's advisory data (issue #8).

pip-audit needs either OSV's API or PyPI's per-version JSON (``/pypi/<name>/<version>/json``);
neither is reachable from the build machine. PyPI's project JSON (``/pypi/<name>/json``) is:
its ``vulnerabilities`` list holds the OSV-backed advisories (PYSEC/GHSA) that affect the
project's *latest* release, the same data pip-audit's ``-s pypi`` service reads. So:

* ``ok``          the locked version is the latest release and its record lists no advisory;
* ``vulnerable``  the locked version is the latest release and its record lists a
                  non-withdrawn advisory;
* ``unaudited``   the locked version is not the latest release (its own record cannot be
                  read here), or the project's record could not be fetched.

``deploy/audit-exceptions.toml`` accepts entries, each with a reason::

    [[exception]]              # an unaudited (name, version): accepted
    name = "numpy"
    version = "2.4.6"
    reason = "..."

    [[exception]]              # an advisory (matched on its id or any alias) that does not apply
    id = "GHSA-xxxx-xxxx-xxxx"
    reason = "..."

A name/version exception never covers a record that could not be fetched: nothing was
checked then. An exception that matches nothing is reported as stale (a warning only).

Exit codes: 0 nothing vulnerable and every unaudited entry accepted; 1 otherwise;
2 usage error, or the lock or exceptions file unreadable. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LOCK = ROOT / "uv.lock"
DEFAULT_EXCEPTIONS = ROOT / "deploy" / "audit-exceptions.toml"
DEFAULT_INDEX = "https://pypi.org/pypi"
USER_AGENT = "just-ingredients-audit/1 (+scripts/audit_deps.py)"

Status = Literal["ok", "vulnerable", "unaudited"]


class UsageError(Exception):
    """A bad argument or an unreadable input file (exit code 2)."""


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    fixed_in: tuple[str, ...] = ()
    link: str = ""
    withdrawn: str | None = None

    @property
    def ids(self) -> frozenset[str]:
        return frozenset({self.id, *self.aliases})


@dataclass(frozen=True)
class ProjectRecord:
    """What PyPI's project JSON says: the latest release and the advisories affecting it."""

    latest: str
    advisories: tuple[Advisory, ...] = ()


@dataclass(frozen=True)
class FetchError:
    message: str


@dataclass(frozen=True)
class VersionException:
    name: str
    version: str
    reason: str


@dataclass(frozen=True)
class AdvisoryException:
    id: str
    reason: str


@dataclass(frozen=True)
class Exceptions:
    versions: tuple[VersionException, ...] = ()
    advisories: tuple[AdvisoryException, ...] = ()


@dataclass
class Finding:
    name: str
    version: str
    latest: str | None
    status: Status
    detail: str
    #: the advisories that make this entry vulnerable (non-withdrawn, latest == locked)
    advisories: list[Advisory] = field(default_factory=list)
    #: for an older locked version: what the latest release's record lists (not proof either way)
    latest_advisories: list[Advisory] = field(default_factory=list)
    accepted: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass
class Report:
    findings: list[Finding]
    stale: list[str]

    @property
    def passed(self) -> bool:
        return all(f.status == "ok" or f.accepted for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {"packages": len(self.findings), "ok": 0, "vulnerable": 0, "unaudited": 0}
        for f in self.findings:
            out[f.status] += 1
        out["accepted"] = sum(1 for f in self.findings if f.status != "ok" and f.accepted)
        out["failing"] = sum(1 for f in self.findings if f.status != "ok" and not f.accepted)
        return out


# ---------------------------------------------------------------------------------------------
# pure functions: lock, exceptions, PyPI JSON, versions, classification


def parse_lock(text: str) -> list[LockedPackage]:
    """The registry packages of a uv.lock, sorted, each (name, version) once. The project
    itself and editable/virtual/path/git sources are skipped."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"lock file is not valid TOML: {exc}") from exc
    packages = data.get("package")
    if not isinstance(packages, list):
        raise UsageError("lock file has no [[package]] table")
    found: set[LockedPackage] = set()
    for entry in packages:
        if not isinstance(entry, dict):
            continue
        source = entry.get("source")
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(source, dict) or "registry" not in source:
            continue
        if not isinstance(name, str) or not isinstance(version, str):
            raise UsageError(f"lock entry without a name or version: {entry!r:.200}")
        found.add(LockedPackage(name, version))
    return sorted(found, key=lambda p: (p.name, _sort_key(p.version)))


def parse_exceptions(text: str) -> Exceptions:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"exceptions file is not valid TOML: {exc}") from exc
    entries = data.get("exception", [])
    if not isinstance(entries, list):
        raise UsageError("exceptions file: `exception` must be an array of tables")
    versions: list[VersionException] = []
    advisories: list[AdvisoryException] = []
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise UsageError(f"exceptions file: entry {i} is not a table")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError(f"exceptions file: entry {i} has no reason")
        if "id" in entry and isinstance(entry["id"], str) and "name" not in entry:
            advisories.append(AdvisoryException(entry["id"], reason.strip()))
        elif isinstance(entry.get("name"), str) and isinstance(entry.get("version"), str):
            versions.append(
                VersionException(_norm_name(entry["name"]), entry["version"], reason.strip())
            )
        else:
            raise UsageError(
                f"exceptions file: entry {i} needs either `id` or both `name` and `version`"
            )
    return Exceptions(tuple(versions), tuple(advisories))


def parse_project_json(data: object) -> ProjectRecord:
    """PyPI's ``/pypi/<name>/json`` document → the latest version and its advisories."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    info = data.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("version"), str):
        raise ValueError("no info.version")
    raw = data.get("vulnerabilities", [])
    if not isinstance(raw, list):
        raise ValueError("`vulnerabilities` is not a list")
    advisories = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ValueError("a vulnerability without an id")
        advisories.append(
            Advisory(
                id=item["id"],
                aliases=_str_tuple(item.get("aliases")),
                summary=_one_line(item.get("summary") or item.get("details") or ""),
                fixed_in=_str_tuple(item.get("fixed_in")),
                link=link if isinstance(link := item.get("link"), str) else "",
                withdrawn=withdrawn
                if isinstance(withdrawn := item.get("withdrawn"), str)
                else None,
            )
        )
    return ProjectRecord(info["version"], tuple(advisories))


def compare_versions(locked: str, latest: str) -> int | None:
    """-1/0/1 when the order is clear from the release numbers, 0 for equal strings,
    None otherwise (pre-releases, local versions...: no PEP 440 parser in the stdlib)."""
    if locked.strip().lower() == latest.strip().lower():
        return 0
    a, b = _release(locked), _release(latest)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def dedupe_advisories(advisories: Iterable[Advisory]) -> list[Advisory]:
    """One entry per advisory: PyPI lists the PYSEC and the GHSA record of the same flaw
    separately, each naming the other among its aliases."""
    out: list[Advisory] = []
    for adv in advisories:
        if any(adv.ids & seen.ids for seen in out):
            continue
        out.append(adv)
    return out


def classify(
    locked: Sequence[LockedPackage],
    records: Mapping[str, ProjectRecord | FetchError],
    exceptions: Exceptions = Exceptions(),
) -> Report:
    """Classify every locked (name, version) with the fetched records (keyed by
    normalised name) and apply the exceptions."""
    findings: list[Finding] = []
    used_versions: set[VersionException] = set()
    used_advisories: set[AdvisoryException] = set()
    all_ids: set[str] = set()
    for pkg in locked:
        record = records.get(_norm_name(pkg.name), FetchError("not fetched"))
        if isinstance(record, FetchError):
            findings.append(
                Finding(
                    pkg.name,
                    pkg.version,
                    None,
                    "unaudited",
                    f"record not fetched: {record.message}",
                )
            )
            # an exception cannot vouch for data that was not read, and is not stale either
            used_versions.update(_version_exceptions(exceptions, pkg))
            continue
        live = [a for a in record.advisories if not a.withdrawn]
        for adv in live:
            all_ids.update(adv.ids)
        order = compare_versions(pkg.version, record.latest)
        if order == 0:
            if not live:
                findings.append(Finding(pkg.name, pkg.version, record.latest, "ok", ""))
                continue
            shown = dedupe_advisories(live)
            finding = Finding(
                pkg.name, pkg.version, record.latest, "vulnerable",
                "; ".join(_advisory_label(a) for a in shown), advisories=shown,
            )  # fmt: skip
            matched = [_advisory_exceptions(exceptions, a) for a in shown]
            if all(matched):
                finding.accepted = True
                for excs in matched:
                    used_advisories.update(excs)
                    finding.reasons.extend(f"{e.id}: {e.reason}" for e in excs)
            findings.append(finding)
            continue
        relation = {-1: "older than", 1: "newer than", None: "not"}[order]
        detail = f"{relation} latest ({record.latest}), per-version record unreachable"
        finding = Finding(pkg.name, pkg.version, record.latest, "unaudited", detail)
        if live:
            finding.latest_advisories = dedupe_advisories(live)
            ids = ", ".join(a.id for a in finding.latest_advisories)
            finding.detail += f"; latest's record lists {len(finding.latest_advisories)}: {ids}"
        else:
            finding.detail += "; latest's record lists no advisory"
        accepting = _version_exceptions(exceptions, pkg)
        if accepting:
            finding.accepted = True
            used_versions.update(accepting)
            finding.reasons.extend(e.reason for e in accepting)
        findings.append(finding)
    for exc in exceptions.advisories:
        if exc.id in all_ids:
            used_advisories.add(exc)
    stale = [
        f"exception for {e.name} {e.version} matches no unaudited locked package"
        for e in exceptions.versions
        if e not in used_versions
    ] + [
        f"exception for advisory {e.id} matches no advisory of a locked package"
        for e in exceptions.advisories
        if e not in used_advisories
    ]
    return Report(findings, stale)


def render_table(report: Report) -> str:
    rows = [("PACKAGE", "LOCKED", "LATEST", "STATUS", "DETAIL")]
    for f in report.findings:
        status = f.status + (" (accepted)" if f.accepted and f.status != "ok" else "")
        rows.append((f.name, f.version, f.latest or "?", status, f.detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True))
        + ("  " + row[4] if row[4] else "")
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def summary_line(report: Report, index: str) -> str:
    c = report.counts()
    verdict = "PASS" if report.passed else "FAIL"
    return (
        f"{verdict}: {c['packages']} locked packages checked against {index}: "
        f"{c['ok']} ok, {c['vulnerable']} vulnerable, {c['unaudited']} unaudited; "
        f"{c['accepted']} accepted by exceptions, {c['failing']} failing, "
        f"{len(report.stale)} stale exceptions"
    )


def report_json(report: Report, index: str, lock: Path) -> dict[str, Any]:
    def adv(a: Advisory) -> dict[str, Any]:
        return {"id": a.id, "aliases": list(a.aliases), "summary": a.summary,
                "fixed_in": list(a.fixed_in), "link": a.link}  # fmt: skip

    return {
        "index": index,
        "lock": str(lock),
        "passed": report.passed,
        "counts": report.counts(),
        "packages": [
            {
                "name": f.name,
                "version": f.version,
                "latest": f.latest,
                "status": f.status,
                "accepted": f.accepted,
                "detail": f.detail,
                "advisories": [adv(a) for a in f.advisories],
                "latest_advisories": [adv(a) for a in f.latest_advisories],
                "exception_reasons": f.reasons,
            }
            for f in report.findings
        ],
        "stale_exceptions": report.stale,
    }


# ---------------------------------------------------------------------------------------------
# network


def fetch_record(
    index: str, name: str, timeout: float = 20.0, retries: int = 2
) -> ProjectRecord | FetchError:
    """GET ``<index>/<name>/json``; a 404 is final, other failures are retried."""
    url = f"{index.rstrip('/')}/{urllib.parse.quote(name)}/json"
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
    )
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(0.5 * attempt)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code} from {url}"
            if exc.code == 404:
                break
            continue
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            last = f"{url}: {reason}"
            continue
        try:
            return parse_project_json(json.loads(body))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return FetchError(f"unexpected JSON from {url}: {exc}")
    return FetchError(last)


def fetch_all(
    names: Iterable[str],
    fetch: Callable[[str], ProjectRecord | FetchError],
    workers: int = 8,
) -> dict[str, ProjectRecord | FetchError]:
    unique = sorted({_norm_name(n) for n in names})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(unique, pool.map(fetch, unique), strict=True))


# ---------------------------------------------------------------------------------------------
# helpers


def _norm_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _release(version: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)(?:\.post\d+)?", version.strip().lower())
    if not match:
        return None
    parts = [int(p) for p in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    post = re.search(r"\.post(\d+)$", version.strip().lower())
    return (*parts, -1, int(post.group(1))) if post else tuple(parts)


def _sort_key(version: str) -> tuple[tuple[int, ...], str]:
    return (_release(version) or (), version)


def _str_tuple(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _advisory_label(adv: Advisory) -> str:
    aliases = f" ({', '.join(adv.aliases)})" if adv.aliases else ""
    fixed = f"fixed in {', '.join(adv.fixed_in)}" if adv.fixed_in else "no fixed version"
    return f"{adv.id}{aliases}, {fixed}"


def _version_exceptions(exceptions: Exceptions, pkg: LockedPackage) -> list[VersionException]:
    return [
        e
        for e in exceptions.versions
        if e.name == _norm_name(pkg.name) and compare_versions(e.version, pkg.version) == 0
    ]


def _advisory_exceptions(exceptions: Exceptions, adv: Advisory) -> list[AdvisoryException]:
    return [e for e in exceptions.advisories if e.id in adv.ids]


# ---------------------------------------------------------------------------------------------
# command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Audit uv.lock against PyPI's advisory data (see the module docstring)."
    )
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK, help="default: %(default)s")
    parser.add_argument("--index", default=DEFAULT_INDEX, help="default: %(default)s")
    parser.add_argument(
        "--exceptions", type=Path, default=None, help=f"default: {DEFAULT_EXCEPTIONS}"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report instead")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request")
    parser.add_argument("--workers", type=int, default=8, help="parallel requests")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on a usage error, 0 on --help
        return int(exc.code or 0)
    try:
        if args.timeout <= 0 or args.workers < 1:
            raise UsageError("--timeout must be > 0 and --workers >= 1")
        try:
            lock_text = args.lock.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read lock file {args.lock}: {exc}") from exc
        locked = parse_lock(lock_text)
        exc_path: Path = args.exceptions or DEFAULT_EXCEPTIONS
        if exc_path.exists() or args.exceptions is not None:
            try:
                exceptions = parse_exceptions(exc_path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise UsageError(f"cannot read exceptions file {exc_path}: {exc}") from exc
        else:
            exceptions = Exceptions()
    except UsageError as exc:
        print(f"audit_deps: {exc}", file=sys.stderr)
        return 2

    index: str = args.index
    records = fetch_all(
        (p.name for p in locked),
        lambda name: fetch_record(index, name, timeout=args.timeout),
        workers=args.workers,
    )
    report = classify(locked, records, exceptions)
    if args.json:
        print(json.dumps(report_json(report, index, args.lock), indent=2))
        for warning in report.stale:
            print(f"warning: stale {warning}", file=sys.stderr)
    else:
        print(render_table(report))
        accepted = [f for f in report.findings if f.accepted and f.status != "ok"]
        if accepted:
            print("\naccepted:")
            for f in accepted:
                for reason in f.reasons:
                    print(
                        textwrap.fill(
                            " ".join(reason.split()),
                            width=100,
                            initial_indent=f"  {f.name} {f.version}: ",
                            subsequent_indent="    ",
                        )
                    )
        failing = [f for f in report.findings if f.status != "ok" and not f.accepted]
        if failing:
            print("\nfailing:")
            for f in failing:
                print(f"  {f.name} {f.version}: {f.status}: {f.detail}")
                for a in f.advisories:
                    print(f"    {a.id}: {a.summary} {a.link}".rstrip())
        print()
        for warning in report.stale:
            print(f"warning: stale {warning}")
        print(summary_line(report, index))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
