"""Preprocessing before Tesseract: grey, deskew, scale to a good text size, even illumination.

Every step is switchable through :class:`PreprocessOptions` so the benchmark can ablate it;
the defaults are the steps the benchmark showed to help (see bench/scan_accuracy.py).
:class:`Prepared` remembers the geometry so boxes map back to the input image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from just_ingredients.domain import BoundingBox

#: bump when a default changes what Tesseract sees (part of the cache key)
PREPROCESS_VERSION = 2


@dataclass(frozen=True, slots=True)
class PreprocessOptions:
    deskew: bool = True
    rescale: bool = True
    normalize_light: bool = True
    crop: bool = True
    binarize: bool = False
    #: wanted median text-line height (ascender to descender) in pixels after scaling
    target_line_px: float = 48.0
    max_scale: float = 4.0
    min_scale: float = 0.5
    max_output_pixels: int = 24_000_000
    max_skew_deg: float = 6.0
    #: check a sheet crop that touches the image border against the text lines found in the
    #: whole (light-levelled) photo; crop to the text instead when the sheet misses text.
    #: Only border-touching sheets are checked: when a light table merges with the sheet
    #: the "sheet" runs into the border; a sheet found wholly inside the photo had a dark
    #: surround all round. (Checking every crop cost ~15% more time for +0.01 F1 on L3.)
    validate_crop: bool = True
    #: share of the text lines that must lie on the detected sheet to trust it
    min_text_on_sheet: float = 1.0

    def key(self) -> str:
        flags = "".join(
            ch
            for ch, on in (
                ("d", self.deskew),
                ("s", self.rescale),
                ("n", self.normalize_light),
                ("c", self.crop),
                ("b", self.binarize),
                ("v", self.crop and self.validate_crop),
            )
            if on
        )
        return f"pp{PREPROCESS_VERSION}-{flags or 'none'}-{self.target_line_px:g}"


RAW = PreprocessOptions(
    deskew=False, rescale=False, normalize_light=False, crop=False, binarize=False
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The image Tesseract reads plus the map back to the input image."""

    image: Image.Image  # mode L
    source_size: tuple[int, int]
    crop_box: tuple[int, int, int, int]  # in the rotated source, before scaling
    angle_deg: float  # counter-clockwise rotation applied to the source
    scale: float
    line_height_px: float | None  # measured before scaling
    #: the levelled, cropped, normalised image before scaling (for another try at a new scale)
    base: Image.Image | None = None
    binarize: bool = False
    #: a second estimate of the line height (ink profile), when it disagrees with the first
    alt_line_height_px: float | None = None

    def rescaled(self, scale: float) -> Prepared:
        """The same preparation at another scale (needs ``base``)."""
        if self.base is None:
            raise ValueError("no base image kept")
        image = _apply_scale(self.base, scale, self.binarize)
        return replace(self, image=image, scale=scale)

    def to_source(self, left: int, top: int, right: int, bottom: int) -> BoundingBox:
        """Box in the prepared image → box in the input image (clipped).

        The steps were: crop ``crop_box``, rotate by ``angle_deg`` about the crop's centre
        (same size), scale by ``scale``; this undoes them in reverse order.
        """
        s = self.scale
        x0, y0, x1, y1 = left / s, top / s, right / s, bottom / s
        cl, ct, cr, cb = self.crop_box
        if self.angle_deg:
            cx, cy = (cr - cl) / 2.0, (cb - ct) / 2.0
            a = math.radians(self.angle_deg)
            cos_a, sin_a = math.cos(a), math.sin(a)
            xs, ys = [], []
            for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
                dx, dy = x - cx, y - cy
                # PIL rotates counter-clockwise on screen; this is the inverse map
                xs.append(cx + dx * cos_a - dy * sin_a)
                ys.append(cy + dx * sin_a + dy * cos_a)
            x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        x0, x1, y0, y1 = x0 + cl, x1 + cl, y0 + ct, y1 + ct
        w, h = self.source_size
        left_i = max(0, min(w, round(x0)))
        top_i = max(0, min(h, round(y0)))
        right_i = max(left_i, min(w, round(x1)))
        bottom_i = max(top_i, min(h, round(y1)))
        return BoundingBox(left_i, top_i, right_i - left_i, bottom_i - top_i)


def to_gray(img: Image.Image) -> Image.Image:
    return img if img.mode == "L" else img.convert("L")


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    """Dark-on-light ink estimate: pixels clearly darker than their neighbourhood."""
    thr = _otsu(gray)
    return gray < thr


def _otsu(gray: np.ndarray) -> float:
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 128.0
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    w1 = total - w0
    m0 = np.cumsum(hist * levels)
    mt = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w0 / total - m0) ** 2 / (w0 * w1)
    between = np.nan_to_num(between)
    return float(np.argmax(between))


def normalize_illumination(gray: Image.Image) -> Image.Image:
    """Divide by a blurred background estimate: removes shadows and uneven light."""
    w, h = gray.size
    small_side = 64
    factor = max(1, round(min(w, h) / small_side))
    small = gray.resize((max(1, w // factor), max(1, h // factor)), Image.Resampling.BOX)
    # background = local maximum (paper is the brightest thing) then smooth
    bg_small = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(2))
    bg = np.asarray(bg_small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    arr = np.asarray(gray, dtype=np.float32)
    out = np.clip(arr / np.maximum(bg, 1.0) * 255.0, 0, 255)
    # stretch contrast so the darkest ink is black
    lo = float(np.percentile(out, 1.0))
    if lo < 200:
        out = np.clip((out - lo) / (255.0 - lo) * 255.0, 0, 255)
    return Image.fromarray(out.astype(np.uint8), mode="L")


def _profile_score(mask: np.ndarray) -> float:
    rows = mask.sum(axis=1).astype(np.float64)
    return float(np.sum(np.diff(rows) ** 2))


def estimate_skew(gray: Image.Image, max_deg: float = 6.0) -> float:
    """Angle (degrees, PIL's counter-clockwise convention) that makes the text lines level."""
    w, h = gray.size
    factor = max(1.0, max(w, h) / 800.0)
    small = gray.resize((max(1, round(w / factor)), max(1, round(h / factor))))
    mask_img = Image.fromarray(
        (adaptive_ink(np.asarray(small), 8) * 255).astype(np.uint8), mode="L"
    )

    def score(angle: float) -> float:
        rotated = mask_img.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
        return _profile_score(np.asarray(rotated) > 127)

    best, best_score = 0.0, score(0.0)
    step = 1.0
    candidates = np.arange(-max_deg, max_deg + 0.001, step)
    for angle in candidates:
        if angle == 0.0:
            continue
        s = score(float(angle))
        if s > best_score:
            best, best_score = float(angle), s
    for angle in (best - 0.5, best - 0.25, best + 0.25, best + 0.5):
        s = score(angle)
        if s > best_score:
            best, best_score = angle, s
    return best if abs(best) >= 0.3 else 0.0


def text_bounds(mask: np.ndarray, margin: int) -> tuple[int, int, int, int] | None:
    """Bounding box of the ink, ignoring sparse noise rows/columns."""
    if not mask.any():
        return None
    rows = mask.sum(axis=1)
    cols = mask.sum(axis=0)
    row_thr = max(1, int(mask.shape[1] * 0.002))
    col_thr = max(1, int(mask.shape[0] * 0.002))
    ys = np.nonzero(rows >= row_thr)[0]
    xs = np.nonzero(cols >= col_thr)[0]
    if ys.size == 0 or xs.size == 0:
        return None
    h, w = mask.shape
    return (
        max(0, int(xs[0]) - margin),
        max(0, int(ys[0]) - margin),
        min(w, int(xs[-1]) + 1 + margin),
        min(h, int(ys[-1]) + 1 + margin),
    )


def estimate_line_height(mask: np.ndarray) -> float | None:
    """Median height of the text rows of a levelled ink mask (ascender to descender)."""
    rows = mask.sum(axis=1)
    if rows.max(initial=0) == 0:
        return None
    on = rows > max(1.0, 0.05 * float(np.percentile(rows[rows > 0], 90)))
    heights: list[int] = []
    run = 0
    for value in on:
        if value:
            run += 1
        elif run:
            heights.append(run)
            run = 0
    if run:
        heights.append(run)
    heights = [h for h in heights if h >= 3]
    if not heights:
        return None
    # ignore thin rules and merged paragraphs: keep the middle of the distribution
    return float(np.median(heights))


def find_paper(gray: Image.Image) -> tuple[tuple[int, int, int, int], Image.Image] | None:
    """Box and mask of a light sheet lying on a darker background, or None (screenshot, scan).

    Works on a small blurred copy: Otsu splits light from dark; the sheet is the biggest
    light blob, accepted when the dark part mostly touches the image border (a table, a
    hand) and the blob is a real share of the picture.
    """
    w, h = gray.size
    factor = max(1.0, max(w, h) / 160.0)
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    small = gray.resize(size, Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(1.5))
    arr = np.asarray(small, dtype=np.uint8)
    thr = _otsu(arr)
    bright = arr > thr
    share = float(bright.mean())
    if not 0.08 <= share <= 0.92:
        return None
    light_mean = float(arr[bright].mean())
    dark_mean = float(arr[~bright].mean())
    if light_mean - dark_mean < 25:
        return None
    border = np.concatenate([bright[0, :], bright[-1, :], bright[:, 0], bright[:, -1]])
    if float(border.mean()) > 0.6:  # the border is mostly light: no background around a sheet
        return None
    # close the holes the text makes, cut thin bridges to bright background, keep the
    # biggest blob
    img = Image.fromarray((bright * 255).astype(np.uint8), mode="L")
    img = img.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.MinFilter(3))
    img = img.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.MaxFilter(5))
    blob = largest_component(np.asarray(img) > 127)
    if blob is None or blob.sum() < 0.04 * blob.size:
        return None
    # a sheet is convex: its convex hull covers the holes and notches the text makes
    best = (1.0, _convex_hull_mask(blob))
    sheet_small = best[1]
    ys, xs = np.nonzero(sheet_small)
    x0, x1 = int(xs.min() * factor), int(min(w, (xs.max() + 1) * factor))
    y0, y1 = int(ys.min() * factor), int(min(h, (ys.max() + 1) * factor))
    sheet = Image.fromarray((sheet_small * 255).astype(np.uint8), mode="L")
    sheet = sheet.filter(ImageFilter.MaxFilter(3)).resize((w, h), Image.Resampling.NEAREST)
    return (x0, y0, x1, y1), sheet


def largest_component(mask: np.ndarray) -> np.ndarray | None:
    """Mask of the biggest 4-connected blob (None when the mask is empty)."""
    h, w = mask.shape
    labels = np.zeros((h, w), dtype=np.int32)
    best_label, best_size, current = 0, 0, 0
    flat = mask.ravel()
    lab = labels.ravel()
    for start in np.flatnonzero(flat):
        if lab[start]:
            continue
        current += 1
        lab[start] = current
        stack = [int(start)]
        size = 0
        while stack:
            i = stack.pop()
            size += 1
            y, x = divmod(i, w)
            for j, ok in ((i - w, y > 0), (i + w, y < h - 1), (i - 1, x > 0), (i + 1, x < w - 1)):
                if ok and flat[j] and not lab[j]:
                    lab[j] = current
                    stack.append(j)
        if size > best_size:
            best_label, best_size = current, size
    if not best_size:
        return None
    out: np.ndarray = labels == best_label
    return out


def _convex_hull_mask(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    points = sorted(set(zip(xs.tolist(), ys.tolist(), strict=True)))
    if len(points) < 3:
        return mask

    def cross(o: tuple[int, int], a: tuple[int, int], b: tuple[int, int]) -> int:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[int, int]] = []
    for pt in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], pt) <= 0:
            lower.pop()
        lower.append(pt)
    upper: list[tuple[int, int]] = []
    for pt in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], pt) <= 0:
            upper.pop()
        upper.append(pt)
    hull = lower[:-1] + upper[:-1]
    img = Image.new("L", (mask.shape[1], mask.shape[0]), 0)
    ImageDraw.Draw(img).polygon(hull, fill=255, outline=255)
    return np.asarray(img) > 127


def _span_fill(mask: np.ndarray) -> np.ndarray:
    out = np.zeros_like(mask)
    for i, row in enumerate(mask):
        idx = np.nonzero(row)[0]
        if idx.size:
            out[i, idx[0] : idx[-1] + 1] = True
    return out


def adaptive_ink(gray: np.ndarray, radius: int = 12, ratio: float = 0.85) -> np.ndarray:
    """Pixels clearly darker than their neighbourhood mean (robust to uneven light)."""
    img = Image.fromarray(gray, mode="L")
    local = np.asarray(img.filter(ImageFilter.BoxBlur(radius)), dtype=np.float32)
    return np.asarray(gray, dtype=np.float32) < local * ratio


LineMeasure = Callable[[Image.Image], "list[tuple[int, int]]"]
#: boxes (left, top, right, bottom) of the text lines a layout analysis finds in an image
LineLocator = Callable[[Image.Image], "list[tuple[int, int, int, int]]"]


def _touches_border(box: tuple[int, int, int, int], size: tuple[int, int]) -> bool:
    x0, y0, x1, y1 = box
    w, h = size
    edge = max(2, round(0.01 * max(w, h)))
    return x0 <= edge or y0 <= edge or x1 >= w - edge or y1 >= h - edge


def text_line_boxes(
    boxes: list[tuple[int, int, int, int]], size: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """The boxes that look like lines of text: at least twice as wide as high, not tiny, and
    not a block spanning a large part of the picture."""
    h_max = 0.3 * size[1]
    out = []
    for x0, y0, x1, y1 in boxes:
        bw, bh = x1 - x0, y1 - y0
        if bh >= 6 and bw >= 2 * bh and bh <= h_max:
            out.append((x0, y0, x1, y1))
    return out


def check_sheet(
    gray: Image.Image,
    sheet: Image.Image,
    locate_lines: LineLocator,
    min_on_sheet: float,
) -> tuple[int, int, int, int] | None:
    """Does the detected sheet hold the text? Returns None when it does (or when there is
    no evidence either way), else a box around the text lines to crop to instead.

    The lines are located in the whole picture after light levelling, so a shadow that
    made part of the sheet look like background does not hide its text.
    """
    boxes = text_line_boxes(locate_lines(normalize_illumination(gray)), gray.size)
    if len(boxes) < 2:
        return None
    mask = np.asarray(sheet) > 127
    # a line is on the sheet when most of it is; one cut by the sheet edge is not
    on_sheet = sum(1 for x0, y0, x1, y1 in boxes if mask[y0:y1, x0:x1].mean() >= 0.95)
    if on_sheet >= min_on_sheet * len(boxes):
        return None
    line_h = float(np.median([y1 - y0 for _, y0, _, y1 in boxes]))
    pad = max(8, round(1.5 * line_h))
    w, h = gray.size
    return (
        max(0, min(b[0] for b in boxes) - pad),
        max(0, min(b[1] for b in boxes) - pad),
        min(w, max(b[2] for b in boxes) + pad),
        min(h, max(b[3] for b in boxes) + pad),
    )


def median_line_height(boxes: list[tuple[int, int]]) -> float | None:
    """Median height of text-line boxes given as (height, width), ignoring blocks."""
    lines = sorted((h, w) for h, w in boxes if h >= 6 and w >= 2 * h)
    if not lines:
        return None
    # median weighted by width: long text lines count more than specks and fragments
    half = sum(w for _, w in lines) / 2.0
    acc = 0.0
    for h, w in lines:
        acc += w
        if acc >= half:
            return float(h)
    return float(lines[-1][0])


def prepare(
    img: Image.Image,
    options: PreprocessOptions | None = None,
    measure_lines: LineMeasure | None = None,
    locate_lines: LineLocator | None = None,
) -> Prepared:
    """Run the enabled steps on an upright RGB/L image.

    ``measure_lines`` returns (height, width) of the text lines found in an image (the engine
    passes Tesseract's layout analysis); without it a projection profile is used.
    ``locate_lines`` (boxes of text lines, also from the layout analysis) lets the crop be
    checked against the text when the sheet touches the picture border (see check_sheet).
    """
    opts = options or PreprocessOptions()
    gray = to_gray(img)
    source_size = gray.size
    crop_box = (0, 0, gray.width, gray.height)
    angle = 0.0
    if opts.crop:
        paper = find_paper(gray)
        if paper is not None:
            crop_box, sheet = paper
            text_box = None
            if (
                opts.validate_crop
                and locate_lines is not None
                and _touches_border(crop_box, gray.size)
            ):
                text_box = check_sheet(gray, sheet, locate_lines, opts.min_text_on_sheet)
            if text_box is not None:
                # the sheet misses text (light background merged with it): crop to the text
                crop_box = text_box
            else:
                # paint what is around the sheet with the paper colour, then crop
                level = int(np.median(np.asarray(gray)[np.asarray(sheet) > 127]))
                gray = Image.composite(gray, Image.new("L", gray.size, level), sheet)
            gray = gray.crop(crop_box)
    if opts.deskew:
        angle = estimate_skew(gray, opts.max_skew_deg)
        if angle:
            fill = int(np.median(np.asarray(gray)))
            gray = gray.rotate(
                angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill
            )
    if opts.normalize_light:
        gray = normalize_illumination(gray)
    line_h: float | None = None
    if measure_lines is not None:
        line_h = median_line_height(measure_lines(gray))
    if line_h is None:
        line_h = estimate_line_height(adaptive_ink(np.asarray(gray)))
    if line_h is not None and line_h > 0.3 * gray.height:
        line_h = None  # a block, not a line: do not trust it
    base = gray
    scale = 1.0
    if opts.rescale and line_h:
        scale = scale_for(line_h, gray.size, opts)
    gray = _apply_scale(base, scale, opts.binarize)
    alt: float | None = None
    if opts.rescale and measure_lines is not None:
        alt = estimate_line_height(adaptive_ink(np.asarray(base)))
        if alt is not None and (alt > 0.3 * base.height or alt < 4):
            alt = None
    return Prepared(
        image=gray,
        source_size=source_size,
        crop_box=crop_box,
        angle_deg=angle,
        scale=scale,
        line_height_px=line_h,
        base=base,
        binarize=opts.binarize,
        alt_line_height_px=alt,
    )


def scale_for(line_h: float, size: tuple[int, int], opts: PreprocessOptions) -> float:
    scale = min(opts.max_scale, max(opts.min_scale, opts.target_line_px / line_h))
    if 0.8 <= scale <= 1.25:
        scale = 1.0
    pixels = size[0] * size[1] * scale * scale
    if pixels > opts.max_output_pixels:
        scale = math.sqrt(opts.max_output_pixels / (size[0] * size[1]))
    return scale


def _apply_scale(gray: Image.Image, scale: float, binarize: bool) -> Image.Image:
    if scale != 1.0:
        gray = gray.resize(
            (max(1, round(gray.width * scale)), max(1, round(gray.height * scale))),
            Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC,
        )
    if binarize:
        a = np.asarray(gray)
        gray = Image.fromarray(np.where(a < _otsu(a), 0, 255).astype(np.uint8), mode="L")
    return gray
