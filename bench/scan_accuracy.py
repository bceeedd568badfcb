"""Scan accuracy: our vision pipeline vs plain `tesseract IMAGE stdout -l eng+fra`.

    OMP_THREAD_LIMIT=1 uv run python bench/scan_accuracy.py [--markdown] [--ablate] [--only L0]

Per level: ingredient F1 (when the parser exists), exact-line rate and page CER against the
printed lines, and the share of vulgar-fraction glyph quantities read right. The Tesseract
baseline text goes through the same parser and scoring. CLI outputs are cached under
/tmp/ji-bench-cache (keyed by file and size) so reruns are fast.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    LEVELS,
    SHOT_LEVEL,
    Case,
    f1,
    line_scores,
    load_cases,
    parse_ingredients,
    parser_available,
    tesseract_cli,
)
from just_ingredients.vision.engine import OcrPool
from just_ingredients.vision.preprocess import RAW, PreprocessOptions
from just_ingredients.vision.result import OcrError

CACHE = Path("/tmp/ji-bench-cache")


def cli_text(case: Case) -> str:
    CACHE.mkdir(exist_ok=True)
    st = case.path.stat()
    key = hashlib.sha1(f"{case.path}:{st.st_size}:{st.st_mtime}".encode()).hexdigest()
    hit = CACHE / f"{key}.txt"
    if hit.exists():
        return hit.read_text(encoding="utf-8")
    text = tesseract_cli(case.path)
    hit.write_text(text, encoding="utf-8")
    return text


def glyph_hits(case: Case, matched: list[bool]) -> tuple[int, int]:
    idx = [i for i, t in enumerate(case.ingredients) if t.has_glyph]
    return sum(1 for i in idx if matched[i]), len(idx)


def glyph_hits_lines(case: Case, text: str) -> tuple[int, int]:
    """Without a parser: a glyph line counts when an OCR line starts with the same amount."""
    from common import norm_line, parse_qty

    want = []
    for line in case.visual_lines:
        n = norm_line(line)
        if re.match(r"\d*\s*[½⅓⅔¼¾⅛]", n):
            want.append(parse_qty(" ".join(n.split()[:2])) or parse_qty(n.split()[0]))
    got = [parse_qty(" ".join(norm_line(x).split()[:2])) for x in text.splitlines()]
    hits = 0
    for w in want:
        if w is not None and any(g is not None and abs(g - w) < 0.01 for g in got):
            hits += 1
    return hits, len(want)


def score(case: Case, text: str, use_parser: bool) -> dict[str, float]:
    exact, page_cer = line_scores(case.visual_lines, text)
    out: dict[str, float] = {"exact": exact, "cer": page_cer}
    if use_parser:
        preds = parse_ingredients(text)
        out["f1"], matched = f1(preds, case.ingredients)
        out["g_hit"], out["g_n"] = glyph_hits(case, matched)
    else:
        out["g_hit"], out["g_n"] = glyph_hits_lines(case, text)
    return out


def run_ours(cases: list[Case], pool: OcrPool) -> dict[str, str]:
    texts: dict[str, str] = {}
    for case in cases:
        try:
            texts[case.name] = pool.read_sync(case.path.read_bytes()).text
        except OcrError:
            texts[case.name] = ""
    return texts


def aggregate(
    cases: list[Case], scores: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    agg: dict[str, dict[str, float]] = {}
    by_level: dict[str, list[dict[str, float]]] = defaultdict(list)
    for case in cases:
        by_level[case.level].append(scores[case.name])
    for level, rows in by_level.items():
        a = {k: sum(r[k] for r in rows) / len(rows) for k in ("exact", "cer")}
        if "f1" in rows[0]:
            a["f1"] = sum(r["f1"] for r in rows) / len(rows)
        a["g_hit"] = sum(r["g_hit"] for r in rows)
        a["g_n"] = sum(r["g_n"] for r in rows)
        a["n"] = len(rows)
        agg[level] = a
    return agg


def table(ours: dict[str, dict[str, float]], base: dict[str, dict[str, float]], md: bool) -> str:
    has_f1 = "f1" in next(iter(ours.values()))
    head = ["level", "images"]
    if has_f1:
        head += ["F1 ours", "F1 tesseract"]
    head += ["exact lines ours", "exact lines tess.", "CER ours", "CER tess.", "glyph qty ours",
             "glyph qty tess."]  # fmt: skip
    rows = []
    for level in (*LEVELS, SHOT_LEVEL):
        if level not in ours:
            continue
        o, b = ours[level], base[level]
        row = [level, str(int(o["n"]))]
        if has_f1:
            row += [f"{o['f1']:.3f}", f"{b['f1']:.3f}"]
        row += [f"{o['exact']:.3f}", f"{b['exact']:.3f}", f"{o['cer']:.3f}", f"{b['cer']:.3f}"]
        row += [f"{int(o['g_hit'])}/{int(o['g_n'])}", f"{int(b['g_hit'])}/{int(b['g_n'])}"]
        rows.append(row)
    if md:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), *(fmt.format(*r) for r in rows)])


def evaluate(cases: list[Case], options: PreprocessOptions, fractions: bool, **kw: Any) -> Any:
    use_parser = parser_available()
    with OcrPool(1, preprocess=options, fractions=fractions, **kw) as pool:
        t = time.monotonic()
        texts = run_ours(cases, pool)
        secs = time.monotonic() - t
    scores = {c.name: score(c, texts[c.name], use_parser) for c in cases}
    return aggregate(cases, scores), scores, texts, secs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--ablate", action="store_true", help="also score each step switched off")
    ap.add_argument("--only", default="", help="substring filter on file names/levels")
    ap.add_argument("--dump", type=Path, help="write per-image texts and scores as JSON")
    ap.add_argument("--psm", type=int, default=None)
    args = ap.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    cases = [c for c in load_cases() if args.only in c.name or args.only in c.level]
    use_parser = parser_available()
    base_scores = {c.name: score(c, cli_text(c), use_parser) for c in cases}
    base = aggregate(cases, base_scores)
    kw: dict[str, Any] = {} if args.psm is None else {"psm": args.psm}
    ours, scores, texts, secs = evaluate(cases, PreprocessOptions(), True, **kw)
    print(f"parser: {'yes' if use_parser else 'no (line-level only)'}; ours {secs:.1f}s")
    print(table(ours, base, args.markdown))
    if args.dump:
        args.dump.write_text(
            json.dumps({"texts": texts, "scores": scores, "base": base_scores}, indent=1,
                       ensure_ascii=False), encoding="utf-8")  # fmt: skip
    if args.ablate:
        variants: dict[str, tuple[PreprocessOptions, bool | str]] = {
            "raw (no preprocessing, no fractions)": (RAW, False),
            "+ re-read with the detected language": (PreprocessOptions(), "reread"),
            "+ retry at another scale if conf < 80": (PreprocessOptions(), "retry"),
            "no fraction recovery": (PreprocessOptions(), False),
            "no re-read of weak lines": (PreprocessOptions(), "no-line-reread"),
            "no deskew": (replace(PreprocessOptions(), deskew=False), True),
            "no rescale": (replace(PreprocessOptions(), rescale=False), True),
            "no light normalisation": (replace(PreprocessOptions(), normalize_light=False), True),
            "no crop": (replace(PreprocessOptions(), crop=False), True),
            "crop without the text-line check": (
                replace(PreprocessOptions(), validate_crop=False),
                True,
            ),
            "+ binarise": (replace(PreprocessOptions(), binarize=True), True),
        }
        key = "f1" if use_parser else "exact"
        print(f"\nablation ({key} per level; default first)")
        levels = [lv for lv in (*LEVELS, SHOT_LEVEL) if lv in ours]
        print("variant".ljust(40) + "".join(lv[:6].rjust(8) for lv in levels) + "  secs")
        print("default".ljust(40) + "".join(f"{ours[lv][key]:8.3f}" for lv in levels)
              + f"  {secs:.1f}")  # fmt: skip
        for name, (opts, fr) in variants.items():
            extra = dict(kw)
            if fr == "reread":
                extra["reread_lang"] = True
            if fr == "retry":
                extra["retry_below"] = 80.0
            if fr == "no-line-reread" or opts is RAW:
                extra["reread_lines_below"] = 0.0
            agg, _, _, s = evaluate(cases, opts, bool(fr), **extra)
            print(name.ljust(40) + "".join(f"{agg[lv][key]:8.3f}" for lv in levels)
                  + f"  {s:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
