"""Shared helpers for the vision benchmarks: eval cases, the Tesseract CLI baseline, scoring."""

from __future__ import annotations

import json
import os
import re
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVAL = Path(os.environ.get("JI_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "eval"))
SYNTH = EVAL / "synthetic"
SHOTS = EVAL / "images" / "justingredients"
LEVELS = ("L0_clean", "L1_easy", "L2_moderate", "L3_hard", "L4_extreme")
SHOT_LEVEL = "screenshot"

VULGAR = {
    "½": 0.5, "⅓": 1 / 3, "⅔": 2 / 3, "¼": 0.25, "¾": 0.75, "⅕": 0.2, "⅖": 0.4, "⅗": 0.6,
    "⅘": 0.8, "⅙": 1 / 6, "⅚": 5 / 6, "⅛": 0.125, "⅜": 0.375, "⅝": 0.625, "⅞": 0.875,
}  # fmt: skip
BULLETS = "•·–-*●▪◦‣"


@dataclass(frozen=True)
class TrueIngredient:
    quantity: float | None
    unit: str | None  # as written; canonicalised at scoring time
    name: str
    has_glyph: bool = False  # quantity printed with a vulgar-fraction glyph


@dataclass
class Case:
    path: Path
    level: str
    lang: str
    visual_lines: list[str]
    ingredients: list[TrueIngredient]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


def parse_qty(text: str | None) -> float | None:
    """'2 1/2', '1⁄2', '½', '2½', '1-2' (first), '0.5', '1,5' → float."""
    if text is None:
        return None
    s = text.strip().replace("⁄", "/").replace(",", ".")
    if not s:
        return None
    s = re.split(r"\s*(?:-|–|to|à)\s*(?=\d)", s)[0]
    total = 0.0
    found = False
    for part in s.split():
        m = re.fullmatch(r"(\d+)?([½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞])", part)
        if m:
            total += float(m.group(1) or 0) + VULGAR[m.group(2)]
            found = True
            continue
        m = re.fullmatch(r"(\d+)/(\d+)", part)
        if m and int(m.group(2)):
            total += int(m.group(1)) / int(m.group(2))
            found = True
            continue
        m = re.fullmatch(r"\d+(?:\.\d+)?", part)
        if m:
            total += float(part)
            found = True
            continue
        break
    return total if found else None


def _strip_bullet(line: str) -> str:
    return line.lstrip(BULLETS + " \t")


def load_cases(include_shots: bool = True) -> list[Case]:
    cases: list[Case] = []
    with (SYNTH / "truth.jsonl").open(encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            visual = rec["visual_lines"]
            glyph_logical = set()
            for vi, li in enumerate(rec["line_of_visual"]):
                if li >= 0 and re.match(r"\s*\d*\s*[½⅓⅔¼¾⅛⅜⅝⅞]", _strip_bullet(visual[vi])):
                    glyph_logical.add(li)
            ings: list[TrueIngredient] = []
            for li, ll in enumerate(rec["logical_lines"]):
                if rec["lang"] == "fr":
                    ings.append(
                        TrueIngredient(
                            parse_qty(ll.get("qty")),
                            ll.get("unit") or None,
                            ll["name"],
                            li in glyph_logical,
                        )
                    )
                else:
                    q = ll.get("quantity") or []
                    u = ll.get("unit") or []
                    ings.append(
                        TrueIngredient(
                            parse_qty(q[0]) if q else None,
                            u[0] if u else None,
                            " ".join(ll.get("food") or []),
                            li in glyph_logical,
                        )
                    )
            cases.append(
                Case(SYNTH / rec["file"], rec["level"], rec["lang"], visual, ings, rec["render"])
            )
    if include_shots:
        expected = json.loads((SHOTS / "expected.json").read_text(encoding="utf-8"))
        for img in expected["images"]:
            text_lines = img["expected_text"].splitlines()
            ings = []
            for i, e in enumerate(img["expected_ingredients"]):
                line = text_lines[i] if i < len(text_lines) else ""
                glyph = bool(re.match(r"\s*\d*\s*[½⅓⅔¼¾⅛]", line))
                ings.append(
                    TrueIngredient(parse_qty(e.get("qty")), e.get("unit"), e["name"], glyph)
                )
            cases.append(Case(SHOTS / img["file"], SHOT_LEVEL, img["lang"], text_lines, ings))
    return cases


# -- text comparison -------------------------------------------------------------------------
def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("œ", "oe").replace("æ", "ae").replace("’", "'")


def norm_line(line: str) -> str:
    line = _strip_bullet(line).replace("⁄", "/")
    return " ".join(line.split())


def cer(ref: str, hyp: str) -> float:
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, rc in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, hc in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc != hc))
        prev = cur
    return prev[-1] / len(ref)


def line_scores(truth_lines: list[str], ocr_text: str) -> tuple[float, float]:
    """(exact-line rate over the truth lines, page CER) after bullet/space normalisation."""
    ref = [norm_line(x) for x in truth_lines if norm_line(x)]
    hyp = [norm_line(x) for x in ocr_text.splitlines() if norm_line(x)]
    hyp_set = set(hyp)
    exact = sum(1 for r in ref if r in hyp_set) / max(1, len(ref))
    return exact, cer("\n".join(ref), "\n".join(hyp))


def tesseract_cli(path: Path, langs: str = "eng+fra") -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(
        ["tesseract", str(path), "stdout", "-l", langs],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    return out.stdout


# -- ingredient scoring ----------------------------------------------------------------------
def _tokens(name: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", fold(name)) if t not in {"de", "d", "of", "the"}}


def name_match(a: str, b: str) -> bool:
    ta, tb = _tokens(a), _tokens(b)
    if not ta and not tb:
        return True
    if not ta or not tb:
        return False
    # overlap coefficient: truth names (TASTEset `food`) often omit modifiers that a parser
    # keeps in the name ("sweetened coconut" vs "coconut")
    return len(ta & tb) / min(len(ta), len(tb)) >= 0.6


def canonical_unit(unit: str | None) -> str | None:
    if not unit:
        return None
    try:
        from just_ingredients.parsing import parse_line  # type: ignore[attr-defined]
    except ImportError:
        return fold(unit).rstrip("s")
    parsed = parse_line(f"1 {unit} x")
    code = getattr(parsed, "unit", None) if parsed is not None else None
    return code or fold(unit).rstrip("s")


def ing_match(pred: Any, truth: TrueIngredient) -> bool:
    pq = getattr(pred, "quantity", None)
    if (pq is None) != (truth.quantity is None):
        return False
    if pq is not None and truth.quantity is not None and abs(pq - truth.quantity) > 0.01:
        return False
    if (getattr(pred, "unit", None) or None) != canonical_unit(truth.unit):
        return False
    return name_match(getattr(pred, "name", "") or "", truth.name)


def f1(preds: list[Any], truths: list[TrueIngredient]) -> tuple[float, list[bool]]:
    """Greedy one-to-one matching; returns (F1, matched flag per truth ingredient)."""
    used: set[int] = set()
    matched = [False] * len(truths)
    for ti, t in enumerate(truths):
        for pi, p in enumerate(preds):
            if pi not in used and ing_match(p, t):
                used.add(pi)
                matched[ti] = True
                break
    tp = sum(matched)
    if not preds and not truths:
        return 1.0, matched
    precision = tp / len(preds) if preds else 0.0
    recall = tp / len(truths) if truths else 0.0
    score = 0.0 if tp == 0 else 2 * precision * recall / (precision + recall)
    return score, matched


def parser_available() -> bool:
    try:
        from just_ingredients.parsing import parse_text  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        return False
    return True


def parse_ingredients(text: str, lang: str | None = None) -> list[Any]:
    from just_ingredients.parsing import parse_text  # type: ignore[attr-defined]

    return list(parse_text(text, lang=lang).ingredients)
