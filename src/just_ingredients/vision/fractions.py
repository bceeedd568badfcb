"""Recover vulgar-fraction glyphs (½ ¼ ¾ ⅓ ⅔ ⅛) that Tesseract misreads at quantity positions.

Tesseract's eng/fra models read ``½`` as ``%``, ``Y%``, ``Y``, ``2`` or drop it. At the
quantity position of a line (its first word, or the word after a leading integer) we look at
the pixels: the glyph is cut out of the image, normalised, and compared with fraction
glyphs and with look-alikes (digits, ``%``, letters, bullets) rendered in several fonts.

Policy: a fraction is written into the line only when the best match is a fraction, clearly
better than every look-alike. Otherwise a junk token (``%``, ``Y%``…) is removed and the line's
confidence is lowered, so the ingredient is shown as doubtful: a quantity is never invented.
Also removes list bullets that Tesseract reads as ``+ * > ¢ e o`` at the start of a line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from just_ingredients.vision.result import RawLine, RawWord

FRACTION_GLYPHS = "½¼¾⅓⅔⅛"
#: shapes a fraction can be confused with; a match to one of these blocks a recovery
LOOKALIKES = (*"0123456789%&#@$¥YyZzBRSgEeXxAaHhMmNnKk•*+-", "12", "14", "34", "13", "23", "18")
DEFAULT_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype",
                     "/usr/share/fonts/opentype", "/usr/share/fonts")  # fmt: skip
FONT_NAMES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf", "DejaVuSans-Oblique.ttf",
    "DejaVuSerif-Italic.ttf", "DejaVuSans-ExtraLight.ttf",
)  # fmt: skip
DEBUG = False
_PARTS = {"½": ("1", "2"), "¼": ("1", "4"), "¾": ("3", "4"), "⅓": ("1", "3"),
          "⅔": ("2", "3"), "⅛": ("1", "8")}  # fmt: skip
SIZE = 28  # template side in pixels

#: tokens Tesseract produces for a fraction glyph; they are never a real quantity
#: two digits that may be a fraction glyph read without its slash (checked on the pixels)
DIGIT_PAIRS = re.compile(r"^(?:12|14|34|13|23|18)$")
JUNK_QTY = re.compile(r"^(?:[^\sA-Za-z]*[%¥£€§©®°¢#&@$][^\s]*|[YyVv¥][%,.:;'\d]*|Ys|[½¼¾⅓⅔⅛]\S+)$")
BULLETS = set("•·*+>»«¢©®°■□▪▫◦●○-–—~=:;,.'\"`^_¦‘’“”")
#: a glued-on bullet or quote in front of the first word
LEADING_JUNK = "«»‘’'`•·*+>¢©°\"“”"
#: a tall stroke where the quantity goes is a 1 read as a letter
ONE_LOOKALIKES = {"l", "I", "|", "]", "[", "!"}
ONE_GLUED = re.compile(
    r"^[lI|L](cups?|eggs?|tbsp|tsp|teaspoons?|tablespoons?|oz|lbs?|kg|ml|cl|pinch|cloves?"
    r"|cans?|onions?|lemons?|limes?|bay)$"
)
INTEGER = re.compile(r"^\d{1,4}$")


@dataclass(frozen=True, slots=True)
class Match:
    glyph: str | None  # the fraction, or None when unsure
    score: float  # best fraction similarity (cosine, 0..1)
    rival: float  # best look-alike similarity
    shape: bool = False  # looks like a fraction glyph (even if which one is unclear)


def _normalise(mask: np.ndarray) -> np.ndarray | None:
    """Ink mask → SIZE×SIZE float image, glyph centred, aspect ratio kept."""
    ys, xs = np.nonzero(mask)
    if ys.size < 4:
        return None
    glyph = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = glyph.shape
    side = max(h, w)
    canvas = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top : top + h, left : left + w] = glyph.astype(np.uint8) * 255
    small = Image.fromarray(canvas, mode="L").resize((SIZE, SIZE), Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(1.6))  # tolerate font and position shifts
    vec = np.asarray(small, dtype=np.float32).ravel()
    vec -= vec.mean()
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else None


def _otsu(gray: np.ndarray) -> float:
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (m0[-1] * w0 / total - m0) ** 2 / (w0 * (total - w0))
    return float(np.argmax(np.nan_to_num(between)))


def ink_mask(crop: Image.Image) -> np.ndarray:
    arr = np.asarray(crop.convert("L"), dtype=np.uint8)
    if arr.size == 0 or int(arr.max()) - int(arr.min()) < 40:
        return np.zeros(arr.shape, dtype=bool)
    return arr < _otsu(arr)


class FractionReader:
    """Template classifier for fraction glyphs. Build once (≈0.2 s) and share; read-only."""

    def __init__(self, font_paths: Sequence[str] | None = None) -> None:
        paths = list(font_paths) if font_paths is not None else _find_fonts()
        self.fonts = paths
        labels: list[str] = []
        vectors: list[np.ndarray] = []
        for path in paths:
            font = ImageFont.truetype(path, 64)
            for ch in (*FRACTION_GLYPHS, *LOOKALIKES):
                img = Image.new("L", (120, 120), 0)
                ImageDraw.Draw(img).text((20, 10), ch, font=font, fill=255)
                vec = _normalise(np.asarray(img) > 127)
                if vec is not None:
                    labels.append(ch)
                    vectors.append(vec)
        self._labels = labels
        self._matrix = np.stack(vectors) if vectors else np.zeros((0, SIZE * SIZE), np.float32)
        self._is_fraction = np.array([lab in FRACTION_GLYPHS for lab in labels], dtype=bool)
        # digits alone, for the numerator and the denominator of a fraction glyph
        d_labels: list[str] = []
        d_vectors: list[np.ndarray] = []
        for path in paths:
            font = ImageFont.truetype(path, 64)
            for ch in "12345678":
                img = Image.new("L", (120, 120), 0)
                ImageDraw.Draw(img).text((20, 10), ch, font=font, fill=255)
                vec = _normalise(np.asarray(img) > 127)
                if vec is not None:
                    d_labels.append(ch)
                    d_vectors.append(vec)
        self._d_labels = d_labels
        self._d_matrix = (
            np.stack(d_vectors) if d_vectors else np.zeros((0, SIZE * SIZE), np.float32)
        )

    def digit_sims(self, mask: np.ndarray) -> dict[str, float]:
        """Similarity of an ink mask to each digit (best over the fonts)."""
        vec = _normalise(mask)
        best: dict[str, float] = dict.fromkeys("12345678", 0.0)
        if vec is None or not self._d_labels:
            return best
        sims = self._d_matrix @ vec
        for label, sim in zip(self._d_labels, sims.tolist(), strict=True):
            best[label] = max(best[label], sim)
        return best

    def score_parts(self, mask: np.ndarray) -> dict[str, float]:
        """Per fraction: mean similarity of numerator (top-left) and denominator
        (bottom-right) blobs to its digits. A narrow numerator counts as a 1."""
        ys, xs = np.nonzero(mask)
        if ys.size < 8:
            return {}
        glyph = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        h, w = glyph.shape
        if h < 6 or w < 6:
            return {}
        top = _largest_blob(glyph[: int(h * 0.5), : int(w * 0.55)])
        bottom = _largest_blob(glyph[int(h * 0.5) :, int(w * 0.45) :])
        if top is None or bottom is None:
            return {}
        num = self.digit_sims(top)
        if top.shape[1] < 0.5 * top.shape[0]:
            num["1"] = max(num["1"], 0.9)
        den = self.digit_sims(bottom)
        if DEBUG:
            print("num", {k: round(v, 2) for k, v in num.items()})
            print("den", {k: round(v, 2) for k, v in den.items()})
        return {g: (num[n] + den[d]) / 2.0 for g, (n, d) in _PARTS.items()}

    def slash_fraction(self, mask: np.ndarray) -> str | None:
        """`1/4` printed with full-size digits and a slash, read by Tesseract as `14` or
        `1A`: three blobs, the middle one a tall stroke leaning right; digits by template."""
        ys, xs = np.nonzero(mask)
        if ys.size < 12:
            return None
        glyph = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        h = glyph.shape[0]
        blobs = [b for b in components(glyph) if b[0] >= 0.04 * ys.size]
        if len(blobs) != 3:
            return None
        blobs.sort(key=lambda b: b[1][0])
        (_, lb, left), (_, mb, mid), (_, rb, right) = blobs
        mh, mw = mb[3] - mb[1], mb[2] - mb[0]
        if mh < 0.7 * h or mw < 0.15 * mh or mw > 0.9 * mh:
            return None
        # a "/" has its ink top-right and bottom-left
        my, mx = np.nonzero(mid)
        if my.size < 4 or float(np.corrcoef(mx, my)[0, 1]) > -0.5:
            return None
        if not (lb[2] <= mb[2] and rb[0] >= mb[0]):
            return None
        num = self.digit_sims(left)
        den = self.digit_sims(right)
        for part, sims in ((left, num), (right, den)):
            if part.shape[1] < 0.5 * part.shape[0]:  # a narrow digit is a 1 in every font
                sims["1"] = max(sims["1"], 0.95)
        a, sa = max(num.items(), key=lambda kv: kv[1])
        b, sb = max(den.items(), key=lambda kv: kv[1])
        second_a = max(v for k, v in num.items() if k != a)
        second_b = max(v for k, v in den.items() if k != b)
        if min(sa, sb) < 0.6 or min(sa - second_a, sb - second_b) < 0.04:
            return None
        if int(a) >= int(b) or b not in "2348":
            return None
        return f"{a}/{b}"

    @property
    def available(self) -> bool:
        return bool(self._is_fraction.any())

    def classify_mask(
        self, mask: np.ndarray, min_score: float = 0.55, margin: float = 0.04
    ) -> Match:
        """Is this a fraction glyph (whole-shape match, better than every look-alike), and
        which one (numerator and denominator read separately; both readings must agree
        with a known fraction)?"""
        vec = _normalise(mask)
        if vec is None or not self.available:
            return Match(None, 0.0, 0.0)
        sims = self._matrix @ vec
        frac_sims = np.where(self._is_fraction, sims, -1.0)
        other_sims = np.where(self._is_fraction, -1.0, sims)
        best = int(np.argmax(frac_sims))
        score, rival = float(frac_sims[best]), float(other_sims.max(initial=-1.0))
        if score < min_score or score - rival < margin:
            if DEBUG:
                print("reject", self._labels[best], round(score, 2), round(rival, 2))
            return Match(None, score, rival)
        whole: dict[str, float] = {}
        for label, sim in zip(self._labels, frac_sims.tolist(), strict=True):
            if label in FRACTION_GLYPHS:
                whole[label] = max(whole.get(label, -1.0), sim)
        parts = self.score_parts(mask)
        if not parts:
            return Match(None, score, rival)
        # numerator and denominator tell fractions apart better than the whole shape does
        total = {g: (whole.get(g, 0.0) + 3.0 * parts[g]) / 4.0 for g in _PARTS}
        ranked = sorted(total.items(), key=lambda kv: -kv[1])
        (glyph, top), (_, second) = ranked[0], ranked[1]
        if DEBUG:
            print("classify", [(g, round(v, 2)) for g, v in ranked[:3]], round(rival, 2))
        if top < 0.6 or top - second < 0.03:
            return Match(None, top, rival, shape=True)
        return Match(glyph, top, rival, shape=True)

    def classify(self, crop: Image.Image) -> Match:
        return self.classify_mask(ink_mask(crop))


def components(mask: np.ndarray) -> list[tuple[int, tuple[int, int, int, int], np.ndarray]]:
    """8-connected blobs of a small mask: (pixel count, (x0, y0, x1, y1), tight mask)."""
    h, w = mask.shape
    labels = np.zeros((h, w), dtype=np.int32)
    found: list[tuple[int, tuple[int, int, int, int], np.ndarray]] = []
    current = 0
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if labels[y0, x0]:
            continue
        current += 1
        labels[y0, x0] = current
        stack = [(int(y0), int(x0))]
        ys: list[int] = []
        xs: list[int] = []
        while stack:
            y, x = stack.pop()
            ys.append(y)
            xs.append(x)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = current
                        stack.append((ny, nx))
        bx0, by0, bx1, by1 = min(xs), min(ys), max(xs) + 1, max(ys) + 1
        blob = labels[by0:by1, bx0:bx1] == current
        found.append((len(ys), (bx0, by0, bx1, by1), blob))
    return found


def _largest_blob(mask: np.ndarray) -> np.ndarray | None:
    """Tight crop of the biggest 8-connected blob of a small mask (None when empty)."""
    h, w = mask.shape
    if h == 0 or w == 0:
        return None
    labels = np.zeros((h, w), dtype=np.int32)
    best_label, best_size, current = 0, 0, 0
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if labels[y0, x0]:
            continue
        current += 1
        labels[y0, x0] = current
        stack = [(int(y0), int(x0))]
        size = 0
        while stack:
            y, x = stack.pop()
            size += 1
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = current
                        stack.append((ny, nx))
        if size > best_size:
            best_label, best_size = current, size
    if best_size < 4:
        return None
    blob: np.ndarray = labels == best_label
    ys, xs = np.nonzero(blob)
    out: np.ndarray = blob[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return out


def _find_fonts() -> list[str]:
    found: list[str] = []
    for name in FONT_NAMES:
        for directory in DEFAULT_FONT_DIRS:
            path = Path(directory) / name
            if path.is_file():
                found.append(str(path))
                break
    return found


# -- line repair -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LineFix:
    words: tuple[RawWord, ...]
    confidence_factor: float = 1.0
    notes: tuple[str, ...] = ()


def _ink_box(
    image: Image.Image, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    x0, y0, x1, y1 = box
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(image.width, x1), min(image.height, y1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    mask = ink_mask(image.crop((x0, y0, x1, y1)))
    ys, xs = np.nonzero(mask)
    if ys.size < 8:
        return None
    return mask, (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1,
                  y0 + int(ys.max()) + 1)  # fmt: skip


def _drop_bullet(words: list[RawWord], line_h: int) -> list[RawWord]:
    if len(words) < 2:
        return words
    first = words[0]
    w = first.box[2] - first.box[0]
    h = first.box[3] - first.box[1]
    text = first.text
    if len(text) == 1 and text in BULLETS:
        return words[1:]
    if text in {"e", "o", "°"} and h <= 0.5 * line_h and w <= 0.5 * line_h:
        return words[1:]
    if len(text) == 2 and text[0] in BULLETS and not text[1].isalnum():
        return words[1:]
    return words


def _digits_fraction(prev: RawWord, word: RawWord) -> str | None:
    """`2 12 tablespoons` (a fraction slash lost): a<b, b in 2,3,4,8 after an integer."""
    if INTEGER.match(prev.text) and re.fullmatch(r"[1-7][2348]", word.text):
        a, b = int(word.text[0]), int(word.text[1])
        if a < b:
            return f"{a}/{b}"
    return None


def fix_line(
    words_in: Sequence[RawWord],
    line_box: tuple[int, int, int, int],
    image: Image.Image,
    reader: FractionReader | None,
) -> LineFix:
    words = list(words_in)
    if not words:
        return LineFix(())
    line_h = max(1, line_box[3] - line_box[1])
    words = _drop_bullet(words, line_h)
    notes: list[str] = []
    factor = 1.0
    first = words[0]
    stripped = first.text.lstrip(LEADING_JUNK)
    if stripped != first.text and stripped[:1].isalnum():
        words[0] = first = RawWord(stripped, first.box, first.conf)
    glued = ONE_GLUED.match(first.text)
    if glued:
        words[0:1] = [RawWord("1", first.box, first.conf * 0.8),
                      RawWord(glued.group(1), first.box, first.conf)]  # fmt: skip
        notes.append("quantity:1-from-letter")
        factor = 0.9
    elif first.text in ONE_LOOKALIKES and len(words) > 1:
        if (first.box[3] - first.box[1]) >= 0.55 * line_h:
            words[0] = RawWord("1", first.box, first.conf * 0.8)
            notes.append("quantity:1-from-letter")
            factor = 0.9
        else:
            del words[0]
    if not words:
        return LineFix(())
    first = words[0]
    first_wide = (
        len(first.text) == 1
        and first.text.isdigit()
        and (first.box[2] - first.box[0]) >= 0.8 * max(1, first.box[3] - first.box[1])
    )
    pair = bool(DIGIT_PAIRS.match(first.text))
    slot = 1 if len(words) > 1 and INTEGER.match(first.text) and not (first_wide or pair) else 0
    word = words[slot]
    text = word.text
    wbox = word.box
    w_h = max(1, wbox[3] - wbox[1])
    w_w = wbox[2] - wbox[0]
    if slot == 1:
        digits = _digits_fraction(words[0], word)
        if digits is not None:
            words[slot] = RawWord(digits, wbox, word.conf)
            return LineFix(tuple(words), 0.85 * factor, (*notes, "fraction:digits"))
    suspicious = (
        bool(JUNK_QTY.match(text))
        or (len(text) == 1 and text.isdigit() and w_w >= 0.8 * w_h and word.conf < 92)
        or (slot == 0 and bool(DIGIT_PAIRS.match(text)) and reader is not None)
    )
    if reader is not None and re.fullmatch(r"[1-7][0-9A-Za-z]", text) and w_w >= 1.3 * w_h:
        found = _ink_box(image, (wbox[0] - 2, wbox[1] - 2, wbox[2] + 2, wbox[3] + 2))
        slashed = reader.slash_fraction(found[0]) if found is not None else None
        if slashed is not None:
            words[slot] = RawWord(slashed, wbox, word.conf)
            return LineFix(tuple(words), factor, (*notes, f"fraction:{slashed}"))
    fraction_shape = False
    if suspicious and reader is not None:
        match = _classify_box(image, wbox, reader)
        if match is not None and match.glyph:
            words[slot] = RawWord(match.glyph, wbox, 100 * match.score)
            return LineFix(tuple(words), factor, (*notes, f"fraction:{match.glyph}"))
        fraction_shape = match is not None and match.shape
    if suspicious and (fraction_shape or not text.isdigit()):
        del words[slot]  # junk where a quantity was: do not guess
        return LineFix(tuple(words), 0.5, (*notes, "fraction:dropped"))
    if suspicious and DIGIT_PAIRS.match(text):
        return LineFix(tuple(words), factor, tuple(notes))  # a plain "12" on the pixels
    if suspicious:
        return LineFix(tuple(words), 0.8 * factor, (*notes, "quantity:doubtful"))
    # a glyph Tesseract did not report at all: ink left of the first word
    if slot == 0 and reader is not None:
        gap = word.box[0] - line_box[0]
        if gap > 0.6 * w_h:
            region = (line_box[0], line_box[1], word.box[0] - 2, line_box[3])
            found = _ink_box(image, region)
            if found is not None:
                mask, ibox = found
                ih = ibox[3] - ibox[1]
                if ih >= 0.6 * w_h:  # bullets and specks are small
                    match = reader.classify_mask(mask)
                    if match.glyph:
                        words.insert(0, RawWord(match.glyph, ibox, 100 * match.score))
                        notes.append(f"fraction:{match.glyph}")
                    else:
                        factor = 0.7
                        notes.append("quantity:unreadable")
    return LineFix(tuple(words), factor, tuple(notes))


def _classify_box(
    image: Image.Image, box: tuple[int, int, int, int], reader: FractionReader
) -> Match | None:
    pad = max(2, (box[3] - box[1]) // 8)
    found = _ink_box(image, (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
    if found is None:
        return None
    return reader.classify_mask(found[0])


def is_garbage(line: RawLine) -> bool:
    """Texture or a paper edge read as text: several words, none of them confident."""
    return len(line.words) >= 3 and max(w.conf for w in line.words) < 50


def recover_lines(
    lines: Sequence[RawLine], image: Image.Image, reader: FractionReader | None
) -> list[tuple[RawLine, float, tuple[str, ...]]]:
    """Apply :func:`fix_line` to every line: (line, confidence factor, notes)."""
    out: list[tuple[RawLine, float, tuple[str, ...]]] = []
    for line in lines:
        if is_garbage(line):
            continue
        fix = fix_line(line.words, line.box, image, reader)
        out.append((RawLine(fix.words, line.box, line.conf), fix.confidence_factor, fix.notes))
    return out
