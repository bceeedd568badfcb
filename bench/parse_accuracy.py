"""Accuracy and speed of `just_ingredients.parsing` on the shared evaluation lines.

Run: `uv run python bench/parse_accuracy.py [--eval-dir DIR] [--markdown] [--failures N]`
(DIR defaults to ../shared/eval/lines next to the repository, or $JI_EVAL_DIR).
The data files are read in place and never copied into the repository.

Scoring (the same rules for every line, no per-line exception):

* quantity: a label is read as a number, `a/b` fraction, `a b/c` mixed number, `a-b` range
  or Unicode fraction; a word label (`few`) or an empty label means "no quantity". Right when
  both are None, or both are within 0.01 (and, for range labels of the ingredient-parser and
  French sets, the upper bound is within 0.01 too). NYT: `qty` 0.0 means no quantity; only
  the primary quantity is compared (NYT's `range_end` is filled inconsistently).
* unit: labels are mapped to canonical codes through the parser's own units table
  (`canonical_unit`); for ingredient-parser labels with a size or manner word in front
  (`large handful`, `heaped tsp`) the leading words are dropped one at a time until the rest
  is a known unit. A label that maps to no code (`recipe`) can never be matched. Empty label =
  no unit. `justingredients_cases.json` labels keep the unit as written (`cups`), so they are
  compared through `canonical_unit` too.
* name: French set and JustIngredients cases: exact match after collapsing whitespace.
  ingredient-parser set: token F1 between the label and our name after lower-casing,
  replacing punctuation by spaces and naive singularisation (`ies`→`y`, `ves`→`f`,
  `oes`→`o`, final `s` dropped unless `ss`, on words of 4+ letters), averaged over rows.
* French "all right" = quantity, unit and name all right on the same line.
* JustIngredients: every case with `complete: true` is run through `parse_text`; right when
  the ingredient count and every expected (quantity, unit, name) match. Cases that fail must
  have a note in `bench/justingredients_notes.md` (a `## case N` heading) explaining why the
  expectation is not the behaviour we want.
* language: every line is parsed with `lang=None`, i.e. with the parser's own detection, as
  the bot does; `detect_language(line)` accuracy per line is shown for information.
* speed: `parse_line(line)` (language detection included) over the distinct lines of all
  four files, repeated for at least 0.5 s, best of three rounds, on one core (the machine
  is shared); the parser caches nothing per line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from just_ingredients.domain import Ingredient
from just_ingredients.parsing import canonical_unit, detect_language, parse_line, parse_text

HERE = Path(__file__).resolve().parent
DEFAULT_EVAL = HERE.parent.parent / "shared" / "eval" / "lines"
NOTES = HERE / "justingredients_notes.md"
VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3, "⅛": 0.125, "⅕": 0.2}


# ---------------------------------------------------------------- label readers
def label_number(text: str) -> float | None:
    """A label quantity (`2`, `1.5`, `1/2`, `1 1/2`, `½`, `1½`); None for words/empty."""
    t = text.strip()
    if not t:
        return None
    total = 0.0
    for part in t.split():
        for ch, v in VULGAR.items():
            if ch in part:
                head = part.replace(ch, "")
                total += v + (float(head) if head else 0.0)
                break
        else:
            if "/" in part:
                num, den = part.split("/", 1)
                try:
                    total += float(num) / float(den)
                except (ValueError, ZeroDivisionError):
                    return None
            else:
                try:
                    total += float(part)
                except ValueError:
                    return None
    return total


def label_range(text: str) -> tuple[float | None, float | None]:
    t = text.strip()
    m = re.fullmatch(r"(.+?)\s*-\s*(.+)", t)
    if m and label_number(m.group(1)) is not None and label_number(m.group(2)) is not None:
        return label_number(m.group(1)), label_number(m.group(2))
    return label_number(t), None


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 0.01


def label_unit(text: str) -> str | None:
    """Canonical code of a unit label; `?label` when the label maps to no code."""
    words = text.split()
    if not words:
        return None
    for i in range(len(words)):
        code = canonical_unit(" ".join(words[i:]))
        if code is not None:
            return code
    # `tbsp tablespoon` style labels: first word
    code = canonical_unit(words[0])
    return code if code is not None else "?" + text


def first_label_unit(text: str) -> str | None:
    """Canonical code of the first unit of a multi-amount label (`g oz`, `fl oz ml`):
    the first one- or two-word run that is a known unit; unknown words (sizes) are skipped."""
    words = text.split()
    for i in range(len(words)):
        for n in (2, 1):
            if i + n <= len(words):
                code = canonical_unit(" ".join(words[i : i + n]))
                if code is not None:
                    return code
    return "?" + text if words else None


_PUNCT = re.compile(r"[^\w\s]")


def singular(word: str) -> str:
    if len(word) < 4:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ves"):
        return word[:-3] + "f"
    if word.endswith("oes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    return [singular(w) for w in _PUNCT.sub(" ", text.lower()).split()]


def token_f1(expected: str, got: str) -> float:
    e, g = tokens(expected), tokens(got)
    if not e and not g:
        return 1.0
    if not e or not g:
        return 0.0
    common = 0
    pool = list(g)
    for w in e:
        if w in pool:
            pool.remove(w)
            common += 1
    if common == 0:
        return 0.0
    p, r = common / len(g), common / len(e)
    return 2 * p * r / (p + r)


def norm_name(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- data sets
@dataclass
class Result:
    dataset: str
    measures: list[tuple[str, float, float, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    note: str = ""


def run_fr(path: Path) -> Result:
    res = Result("fr_authored.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    all_ok = q_ok = u_ok = n_ok = 0
    for row in rows:
        ing = parse_line(row["input"])
        qe, qme = label_range(row["qty"])
        got_q = ing.quantity if ing else None
        got_qm = ing.quantity_max if ing else None
        qok = close(qe, got_q) and close(qme, got_qm)
        uok = (row["unit"] or None) == (ing.unit if ing else None)
        nok = norm_name(row["name"]) == norm_name(ing.name if ing else "")
        q_ok += qok
        u_ok += uok
        n_ok += nok
        if qok and uok and nok:
            all_ok += 1
        else:
            res.failures.append(_fail(row["input"], (row["qty"], row["unit"], row["name"]), ing))
    n = len(rows)
    res.measures.append(("quantity+unit+name right", all_ok / n, 0.97, f"{all_ok}/{n}"))
    res.measures.append(("quantity right", q_ok / n, 0.0, f"{q_ok}/{n}"))
    res.measures.append(("unit right", u_ok / n, 0.0, f"{u_ok}/{n}"))
    res.measures.append(("name right", n_ok / n, 0.0, f"{n_ok}/{n}"))
    lang_ok = sum(detect_language(row["input"]) == "fr" for row in rows)
    res.measures.append(("line detected as French (info)", lang_ok / n, 0.0, f"{lang_ok}/{n}"))
    return res


def run_ip(path: Path) -> Result:
    res = Result("en_ingredient_parser_sample600.csv")
    rows = [r for r in csv.DictReader(path.open(encoding="utf-8")) if r["multi_amount"] == "0"]
    qu_ok = q_ok = u_ok = 0
    f1_total = 0.0
    for row in rows:
        ing = parse_line(row["input"])
        qe, qme = label_range(row["qty"])
        qok = close(qe, ing.quantity if ing else None) and close(
            qme, ing.quantity_max if ing else None
        )
        uok = label_unit(row["unit"]) == (ing.unit if ing else None)
        f1 = token_f1(row["name"], ing.name if ing else "")
        q_ok += qok
        u_ok += uok
        qu_ok += qok and uok
        f1_total += f1
        if not (qok and uok) or f1 < 0.5:
            res.failures.append(_fail(row["input"], (row["qty"], row["unit"], row["name"]), ing))
    n = len(rows)
    multi = [r for r in csv.DictReader(path.open(encoding="utf-8")) if r["multi_amount"] == "1"]
    multi_ok = 0
    for row in multi:
        ing = parse_line(row["input"])
        qok = close(label_number(row["qty_first"]), ing.quantity if ing else None)
        multi_ok += qok and first_label_unit(row["unit"]) == (ing.unit if ing else None)
    res.measures.append(
        ("single-amount rows: quantity and unit right", qu_ok / n, 0.95, f"{qu_ok}/{n}")
    )
    res.measures.append(("single-amount rows: quantity right", q_ok / n, 0.0, f"{q_ok}/{n}"))
    res.measures.append(("single-amount rows: unit right", u_ok / n, 0.0, f"{u_ok}/{n}"))
    res.measures.append(("single-amount rows: name token F1 (mean)", f1_total / n, 0.90, f"n={n}"))
    res.measures.append(
        (
            "multi_amount=1 rows: first amount right (info)",
            multi_ok / len(multi),
            0.0,
            f"{multi_ok}/{len(multi)}",
        )
    )
    return res


def run_nyt(path: Path) -> Result:
    res = Result("en_nyt_sample500.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    q_ok = u_ok = 0
    for row in rows:
        ing = parse_line(row["input"])
        qe = float(row["qty"]) if row["qty"] else 0.0
        expected_q = None if qe == 0.0 else qe
        qok = close(expected_q, ing.quantity if ing else None)
        uok = label_unit(row["unit"]) == (ing.unit if ing else None)
        q_ok += qok
        u_ok += uok
        if not (qok and uok):
            res.failures.append(_fail(row["input"], (row["qty"], row["unit"], row["name"]), ing))
    n = len(rows)
    res.measures.append(("quantity right", q_ok / n, 0.93, f"{q_ok}/{n}"))
    res.measures.append(("unit right", u_ok / n, 0.90, f"{u_ok}/{n}"))
    lang_ok = sum(detect_language(row["input"]) == "en" for row in rows)
    res.measures.append(("line detected as English (info)", lang_ok / n, 0.0, f"{lang_ok}/{n}"))
    return res


def run_ji(path: Path) -> Result:
    res = Result("justingredients_cases.json (complete)")
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    noted = {int(n) for n in re.findall(r"^## case (\d+)", notes, re.MULTILINE)}
    ok = total = explained = 0
    for number, case in enumerate(cases):
        if not case.get("complete"):
            continue
        total += 1
        parsed = parse_text(case["input"])
        got = parsed.ingredients
        expected = case["expected"]
        right = len(got) == len(expected) and all(
            _ji_match(e, g) for e, g in zip(expected, got, strict=True)
        )
        if right:
            ok += 1
        else:
            explained += number in noted
            summary = [(g.quantity, g.unit, g.name) for g in got]
            res.failures.append(
                f"case {number} {'(noted)' if number in noted else '(NO NOTE)'}: "
                f"{case['input']!r} expected {expected} got {summary}"
            )
    res.measures.append(("complete cases right (info)", ok / total, 0.0, f"{ok}/{total}"))
    res.measures.append(
        ("right or explained in notes", (ok + explained) / total, 1.0, f"{ok + explained}/{total}")
    )
    return res


def _ji_match(expected: dict[str, str | None], got: Ingredient) -> bool:
    if "quantity" in expected:
        q = expected["quantity"]
        if not close(label_number(q) if q else None, got.quantity):
            return False
    if "unit" in expected:
        u = expected["unit"]
        if (canonical_unit(u) if u else None) != got.unit:
            return False
    return "name" not in expected or norm_name(expected["name"] or "") == norm_name(got.name)


def _fail(text: str, expected: tuple[str, str, str], ing: Ingredient | None) -> str:
    got = (ing.quantity, ing.quantity_max, ing.unit, ing.name) if ing else None
    return f"{text!r}: expected {expected} got {got}"


def all_lines(eval_dir: Path) -> list[str]:
    lines: set[str] = set()
    for name in ("fr_authored.csv", "en_ingredient_parser_sample600.csv", "en_nyt_sample500.csv"):
        for row in csv.DictReader((eval_dir / name).open(encoding="utf-8")):
            lines.add(row["input"])
    cases = json.loads((eval_dir / "justingredients_cases.json").read_text(encoding="utf-8"))
    for case in cases["cases"]:
        lines.update(line for line in case["input"].splitlines() if line.strip())
    return sorted(lines)


def run_speed(eval_dir: Path, rounds: int = 3, min_seconds: float = 0.5) -> Result:
    """Best of `rounds` timings, each over at least `min_seconds` of full passes (the
    machine is shared, so the best round is the least disturbed one)."""
    res = Result("speed (parse_line, one core)")
    lines = all_lines(eval_dir)
    parse: Callable[[str], object] = parse_line
    rate = 0.0
    for _ in range(rounds):
        count = 0
        start = time.perf_counter()
        while True:
            for line in lines:
                parse(line)
            count += len(lines)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rate = max(rate, count / elapsed)
    res.measures.append(("lines per second", rate, 20000.0, f"{len(lines)} distinct lines"))
    return res


# ---------------------------------------------------------------- output
def _fmt(value: float, target: float, name: str) -> tuple[str, str, str]:
    if name == "lines per second":
        return f"{value:,.0f}", f"≥ {target:,.0f}", "met" if value >= target else "NOT MET"
    if target == 0.0:
        return f"{value:.1%}", "—", ""
    if "F1" in name:
        return f"{value:.3f}", f"≥ {target:.2f}", "met" if value >= target else "NOT MET"
    return f"{value:.1%}", f"≥ {target:.0%}", "met" if value >= target - 1e-9 else "NOT MET"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument(
        "--eval-dir", type=Path, default=Path(os.environ.get("JI_EVAL_DIR", DEFAULT_EVAL))
    )
    ap.add_argument("--markdown", action="store_true", help="print a README-ready table")
    ap.add_argument("--failures", type=int, default=0, help="show up to N failures per set")
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args(argv)
    d: Path = args.eval_dir
    results = [
        run_ji(d / "justingredients_cases.json"),
        run_fr(d / "fr_authored.csv"),
        run_ip(d / "en_ingredient_parser_sample600.csv"),
        run_nyt(d / "en_nyt_sample500.csv"),
    ]
    if not args.no_speed:
        results.append(run_speed(d))
    rows = []
    for r in results:
        for name, value, target, detail in r.measures:
            v, t, status = _fmt(value, target, name)
            rows.append((r.dataset, name, v, detail, t, status))
    if args.markdown:
        print("| data set | measure | result | detail | target | status |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="parse accuracy")
        for col in ("data set", "measure", "result", "detail", "target", "status"):
            table.add_column(col)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    if args.failures:
        for r in results:
            if r.failures:
                print(f"\n### {r.dataset}: {len(r.failures)} failures")
                for f in r.failures[: args.failures]:
                    print("-", f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
