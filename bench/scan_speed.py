"""Scan speed and memory: our pool vs the plain `tesseract IMAGE stdout -l eng+fra` command.

    OMP_THREAD_LIMIT=1 uv run python bench/scan_speed.py [--markdown] [--repeat N]

Both sides read every eval image (synthetic + the two screenshots) once, one at a time
(one worker). Ours runs in a child process so its peak RSS (ru_maxrss of that child:
interpreter, Tesseract models, decoded images, everything) is measured alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_cases

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from just_ingredients.vision.engine import OcrPool
from just_ingredients.vision.result import OcrError
paths = [Path(p) for p in json.loads(sys.argv[1])]
repeat = int(sys.argv[2])
t0 = time.monotonic()
with OcrPool(1) as pool:
    t_load = time.monotonic() - t0
    for _ in range(repeat):
        for p in paths:
            try:
                pool.read_sync(p.read_bytes())
            except OcrError:
                pass
total = time.monotonic() - t0
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": total, "load_seconds": t_load, "max_rss_mb": rss_kb / 1024}))
"""


def run_ours(paths: list[Path], repeat: int) -> dict[str, float]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([str(p) for p in paths]), str(repeat)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_cli(paths: list[Path], repeat: int) -> dict[str, float]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    t0 = time.monotonic()
    for _ in range(repeat):
        for p in paths:
            subprocess.run(
                ["tesseract", str(p), "stdout", "-l", "eng+fra"],
                capture_output=True, check=False, env=env,
            )  # fmt: skip
    seconds = time.monotonic() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "max_rss_mb": rss_kb / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    paths = [c.path for c in load_cases()]
    cli = run_cli(paths, args.repeat)  # first: RUSAGE_CHILDREN then holds only CLI runs
    ours = run_ours(paths, args.repeat)
    n = len(paths) * args.repeat
    ratio = ours["seconds"] / cli["seconds"]
    rows = [
        ("images", str(n), str(n)),
        ("total seconds", f"{ours['seconds']:.1f}", f"{cli['seconds']:.1f}"),
        ("seconds per image", f"{ours['seconds'] / n:.2f}", f"{cli['seconds'] / n:.2f}"),
        ("engine load (s, once)", f"{ours['load_seconds']:.2f}", "each run"),
        ("peak RSS (MB)", f"{ours['max_rss_mb']:.0f}", f"{cli['max_rss_mb']:.0f} (largest run)"),
    ]
    if args.markdown:
        print("| measure | ours (one process) | tesseract CLI per image |\n|---|---|---|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} |")
    else:
        for r in rows:
            print(f"{r[0]:>24}  {r[1]:>10}  {r[2]:>18}")
    print(f"time ratio ours / CLI: {ratio:.2f} (target <= 1.2); peak {ours['max_rss_mb']:.0f} MB "
          f"(target <= 200)")  # fmt: skip


if __name__ == "__main__":
    main()
