"""Coverage-guided fuzzing of parse_line and load_image with atheris (not a pytest test).

    uv run --with atheris python tests/reliability/fuzz_atheris.py -runs=20000 -max_len=4096

Any exception other than ImageRejected is a crash (atheris stops and writes the input to
crash-<sha1>). `-max_total_time=60` bounds a run by time instead.
"""

from __future__ import annotations

import contextlib
import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from just_ingredients.parsing import parse_line, parse_text
    from just_ingredients.vision.intake import ImageRejected, load_image


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 2)
    if which == 0:
        parse_line(fdp.ConsumeUnicodeNoSurrogates(400), None)
    elif which == 1:
        parse_text(fdp.ConsumeUnicodeNoSurrogates(4096), None)
    else:
        with contextlib.suppress(ImageRejected):
            load_image(fdp.ConsumeBytes(fdp.remaining_bytes()))


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
