"""Tesseract (tesserocr) engines in a pool, used off the event loop.

    pool = OcrPool(size=settings.ocr_workers, languages=settings.ocr_languages,
                   timeout_seconds=settings.ocr_timeout_seconds,
                   max_image_bytes=settings.max_image_bytes)
    result = await pool.read(image_bytes)      # OcrResult
    pool.close()

Each engine is one ``PyTessBaseAPI`` loaded once and reused; a job borrows one engine from a
queue, so at most ``size`` images are read at a time. tesserocr releases the GIL while
Tesseract works, so the thread executor really runs in parallel. The per-image timeout is
passed to Tesseract (``Recognize(timeout=ms)`` cancels recognition inside Tesseract).
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import os
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from PIL import Image

from just_ingredients.domain import BoundingBox, Lang
from just_ingredients.vision.breaker import CircuitBreaker
from just_ingredients.vision.fractions import FractionReader, recover_lines
from just_ingredients.vision.intake import DEFAULT_MAX_BYTES, ImageRejected, load_image
from just_ingredients.vision.preprocess import (
    Prepared,
    PreprocessOptions,
    prepare,
    scale_for,
)
from just_ingredients.vision.result import (
    CircuitOpen,
    NoTextFound,
    OcrFailed,
    OcrLine,
    OcrResult,
    OcrTimeout,
    OcrWord,
    RawLine,
    RawWord,
    TessdataNotFound,
)

KNOWN_TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)

#: Tesseract page segmentation mode. 4 = one column of text of variable sizes (ingredient lists)
DEFAULT_PSM = 4
#: page segmentation mode for re-reading one line alone
SINGLE_LINE_PSM = 7
ENGINE_VERSION = 2
#: re-read alone the lines holding a word below this confidence (0..100; 0 = never)
DEFAULT_REREAD_LINES_BELOW = 70.0


#: Leptonica's L_SEVERITY_NONE: print nothing
_LEPTONICA_SILENT = 6


@functools.cache
def quiet_leptonica() -> bool:
    """Stop Leptonica writing `Error in pixScanForForeground…` lines straight to stderr.

    They come from inside Tesseract's layout analysis on harmless edge cases, bypass our
    logging (breaking the one-JSON-object-per-line log format) and carry nothing we act on:
    failures surface as OCR results or typed errors. Returns whether it could be silenced.
    """
    import tesserocr

    site = Path(tesserocr.__file__).resolve().parent.parent
    for library in sorted(site.glob("tesserocr.libs/libleptonica*")):
        try:
            ctypes.CDLL(str(library)).setMsgSeverity(_LEPTONICA_SILENT)
        except (OSError, AttributeError):
            continue
        return True
    return False


def resolve_tessdata(languages: str = "eng+fra", env: Mapping[str, str] | None = None) -> str:
    """Directory holding ``<lang>.traineddata`` for every language in ``languages``.

    Looks at ``TESSDATA_PREFIX`` (the directory itself or its parent), then known
    Debian/Homebrew paths. Raises :class:`TessdataNotFound` with the list tried.
    """
    environ = os.environ if env is None else env
    wanted = [lang for lang in languages.split("+") if lang]
    candidates: list[Path] = []
    prefix = environ.get("TESSDATA_PREFIX")
    if prefix:
        candidates += [Path(prefix), Path(prefix) / "tessdata"]
    candidates += [Path(p) for p in KNOWN_TESSDATA_DIRS]
    for directory in candidates:
        if all((directory / f"{lang}.traineddata").is_file() for lang in wanted):
            return str(directory) + os.sep
    tried = ", ".join(str(c) for c in candidates)
    raise TessdataNotFound(
        f"Tesseract data for {'+'.join(wanted)} not found (tried {tried}); install "
        "tesseract-ocr-eng and tesseract-ocr-fra or set TESSDATA_PREFIX"
    )


def settings_key(
    languages: str = "eng+fra",
    options: PreprocessOptions | None = None,
    psm: int = DEFAULT_PSM,
    reread_lines_below: float = DEFAULT_REREAD_LINES_BELOW,
) -> str:
    """Stable string for the cache key (image SHA-256 + this): what changes the OCR output."""
    opts = options or PreprocessOptions()
    return f"tess5-{languages}-psm{psm}-{opts.key()}-fr1-rl{reread_lines_below:g}-e{ENGINE_VERSION}"


_LANG_TO_TESS: dict[Lang, str] = {"en": "eng", "fr": "fra"}


class OcrEngine:
    """One Tesseract instance. Not thread-safe: one job at a time (the pool ensures it)."""

    def __init__(self, tessdata: str, languages: str = "eng+fra", psm: int = DEFAULT_PSM) -> None:
        import tesserocr

        self._tesserocr: Any = tesserocr
        self.languages = languages
        self.psm = psm
        try:
            self._api: Any = tesserocr.PyTessBaseAPI(
                path=tessdata, lang=languages, psm=psm, oem=tesserocr.OEM.LSTM_ONLY
            )
        except RuntimeError as exc:
            raise OcrFailed(f"cannot start Tesseract with {languages}: {exc}") from exc
        self._tessdata = tessdata
        #: single-language instances for the second read, created on first use
        self._single: dict[str, Any] = {}

    def _api_for(self, lang: str | None) -> Any:
        if lang is None or lang == self.languages:
            return self._api
        api = self._single.get(lang)
        if api is None:
            tess = self._tesserocr
            api = tess.PyTessBaseAPI(
                path=self._tessdata, lang=lang, psm=self.psm, oem=tess.OEM.LSTM_ONLY
            )
            self._single[lang] = api
        return api

    def recognize(
        self,
        image: Image.Image,
        timeout_s: float,
        lang: str | None = None,
        psm: int | None = None,
    ) -> list[RawLine]:
        api = self._api_for(lang)
        if psm is not None and psm != self.psm:
            api.SetPageSegMode(psm)
            try:
                return self._recognize(api, image, timeout_s)
            finally:
                api.SetPageSegMode(self.psm)
        return self._recognize(api, image, timeout_s)

    def _recognize(self, api: Any, image: Image.Image, timeout_s: float) -> list[RawLine]:
        tess = self._tesserocr
        api.SetImage(image)
        api.SetSourceResolution(300)
        ms = max(1, int(timeout_s * 1000))
        ok = api.Recognize(timeout=ms)
        if not ok:
            api.Clear()
            raise OcrTimeout(f"OCR took longer than {timeout_s:.1f}s")
        lines: list[RawLine] = []
        it = api.GetIterator()
        if it is None:
            return lines
        word_level = tess.RIL.WORD
        line_level = tess.RIL.TEXTLINE
        current: list[RawWord] = []
        line_box: tuple[int, int, int, int] | None = None
        line_conf = 0.0
        for w in tess.iterate_level(it, word_level):
            if w.IsAtBeginningOf(line_level):
                if current and line_box is not None:
                    lines.append(RawLine(tuple(current), line_box, line_conf))
                current = []
                line_box = w.BoundingBox(line_level)
                line_conf = float(w.Confidence(line_level))
            try:
                text = w.GetUTF8Text(word_level)
            except RuntimeError:  # "No text returned": an empty page or word
                continue
            box = w.BoundingBox(word_level)
            if text is None or box is None or not text.strip():
                continue
            current.append(RawWord(text.strip(), tuple(box), float(w.Confidence(word_level))))
        if current and line_box is not None:
            lines.append(RawLine(tuple(current), line_box, line_conf))
        api.Clear()
        return lines

    def measure_lines(self, image: Image.Image) -> list[tuple[int, int]]:
        """(height, width) of the text lines Tesseract's layout analysis finds (no OCR)."""
        return [(y1 - y0, x1 - x0) for x0, y0, x1, y1 in self.locate_lines(image)]

    def locate_lines(self, image: Image.Image) -> list[tuple[int, int, int, int]]:
        """Boxes (left, top, right, bottom) of the text lines found by layout analysis."""
        api = self._api
        tess = self._tesserocr
        api.SetImage(image)
        out: list[tuple[int, int, int, int]] = []
        try:
            it = api.AnalyseLayout()
            if it is not None:
                for line in tess.iterate_level(it, tess.RIL.TEXTLINE):
                    box = line.BoundingBox(tess.RIL.TEXTLINE)
                    if box:
                        out.append((int(box[0]), int(box[1]), int(box[2]), int(box[3])))
        finally:
            api.Clear()
        return out

    def read_box(self, image: Image.Image, whitelist: str, psm: int = 8) -> tuple[str, float]:
        """A constrained read of a small crop (used by fraction recovery)."""
        api = self._api
        api.SetVariable("tessedit_char_whitelist", whitelist)
        api.SetPageSegMode(psm)
        try:
            api.SetImage(image)
            text = (api.GetUTF8Text() or "").strip()
            conf = float(api.MeanTextConf()) / 100.0
        finally:
            api.SetVariable("tessedit_char_whitelist", "")
            api.SetPageSegMode(self.psm)
            api.Clear()
        return text, conf

    def close(self) -> None:
        self._api.End()
        for api in self._single.values():
            api.End()
        self._single.clear()


def detect_lang(text: str) -> Lang | None:
    """English or French from common ingredient-list words; None when unclear."""
    import re

    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœæ']+", text.lower())
    fr_words = {
        "de", "d'", "du", "des", "la", "le", "les", "et", "à", "au", "aux", "en", "pour",
        "cuillère", "cuillères", "soupe", "café", "gousse", "gousses", "pincée", "sel",
        "poivre", "beurre", "sucre", "farine", "lait", "oeufs", "œufs", "huile", "oignon",
        "càs", "càc", "cs", "cc", "sachet", "verre", "boîte", "râpé", "haché", "hachée",
    }  # fmt: skip
    en_words = {
        "of", "and", "the", "cup", "cups", "tablespoon", "tablespoons", "teaspoon",
        "teaspoons", "tbsp", "tsp", "ounces", "oz", "pound", "pounds", "lb", "chopped",
        "salt", "pepper", "butter", "sugar", "flour", "milk", "eggs", "oil", "onion",
        "large", "small", "fresh", "ground", "to", "taste", "or", "for", "sliced",
    }  # fmt: skip
    fr = sum(1 for w in words if w in fr_words or w.startswith(("d'", "l'")))
    fr += sum(1 for ch in text if ch in "àâçéèêëîïôûùœ") // 2
    en = sum(1 for w in words if w in en_words)
    if fr == en == 0:
        return None
    if fr > en * 1.5:
        return "fr"
    if en > fr * 1.5:
        return "en"
    return None


class OcrPool:
    """A pool of ``size`` Tesseract engines shared by all requests.

    Create one at start-up (the caller owns it), use :meth:`read` from async code or
    :meth:`read_sync` from a worker thread or a script, and :meth:`close` at shutdown.
    """

    def __init__(
        self,
        size: int = 1,
        languages: str = "eng+fra",
        timeout_seconds: float = 30.0,
        max_image_bytes: int = DEFAULT_MAX_BYTES,
        *,
        breaker: CircuitBreaker | None = None,
        tessdata: str | None = None,
        preprocess: PreprocessOptions | None = None,
        fractions: bool = True,
        psm: int = DEFAULT_PSM,
        retry_below: float = 0.0,
        reread_lang: bool = False,
        reread_lines_below: float = DEFAULT_REREAD_LINES_BELOW,
    ) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self.languages = languages
        self.timeout_seconds = timeout_seconds
        self.max_image_bytes = max_image_bytes
        self.breaker = breaker or CircuitBreaker()
        self.preprocess = preprocess or PreprocessOptions()
        self.fractions = fractions
        self._fraction_reader = FractionReader() if fractions else None
        self.psm = psm
        #: re-read at another scale when the mean word confidence is below this (0 = never)
        self.retry_below = retry_below
        #: second read with the detected language alone (see _maybe_reread_lang)
        self.reread_lang = reread_lang
        #: read a line again on its own when one of its words is below this confidence
        #: (0..100; 0 = never), see _reread_weak_lines
        self.reread_lines_below = reread_lines_below
        self._tessdata = tessdata or resolve_tessdata(languages)
        quiet_leptonica()
        self._engines: queue.LifoQueue[OcrEngine] = queue.LifoQueue()
        self._all: list[OcrEngine] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="ocr")
        self._closed = False
        # Load one engine now so a missing language fails at start-up, the rest lazily.
        self._engines.put(self._new_engine())

    # -- lifecycle -------------------------------------------------------------------------
    def _new_engine(self) -> OcrEngine:
        engine = OcrEngine(self._tessdata, self.languages, self.psm)
        with self._lock:
            self._all.append(engine)
        return engine

    def _borrow(self) -> OcrEngine:
        try:
            return self._engines.get_nowait()
        except queue.Empty:
            with self._lock:
                may_grow = len(self._all) < self.size
            if may_grow:
                return self._new_engine()
            return self._engines.get()

    @property
    def ready(self) -> bool:
        return not self._closed and self.breaker.allow_peek()

    @property
    def settings_key(self) -> str:
        return settings_key(self.languages, self.preprocess, self.psm, self.reread_lines_below)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
        with self._lock:
            engines, self._all = self._all, []
        for engine in engines:
            engine.close()

    def __enter__(self) -> OcrPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------
    async def read(self, image_bytes: bytes) -> OcrResult:
        """Check, preprocess and read an image without blocking the event loop."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self.read_sync, image_bytes)
        # Tesseract cancels itself at the timeout; the outer wait only guards against a hang
        # in preprocessing or in the executor queue.
        grace = self.timeout_seconds * 2 + 5.0
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=grace)
        except TimeoutError as exc:
            self.breaker.record_failure()
            raise OcrTimeout(f"OCR did not finish within {grace:.0f}s") from exc

    def read_sync(self, image: bytes | Image.Image) -> OcrResult:
        """Blocking version of :meth:`read` (also accepts an already loaded image)."""
        if self._closed:
            raise OcrFailed("the OCR pool is closed")
        if not self.breaker.allow():
            raise CircuitOpen("OCR is temporarily unavailable", self.breaker.retry_after())
        start = time.monotonic()
        try:
            if isinstance(image, Image.Image):
                from just_ingredients.vision.intake import normalize_mode

                upright = normalize_mode(image)
            else:
                upright = load_image(image, max_bytes=self.max_image_bytes).image
        except ImageRejected:
            self.breaker.release_trial()
            raise
        try:
            result = self._read_upright(upright, start)
        except (OcrTimeout, OcrFailed):
            self.breaker.record_failure()
            raise
        except NoTextFound:
            self.breaker.record_success()
            raise
        except Exception as exc:  # a crash inside Tesseract or our code: count it
            self.breaker.record_failure()
            raise OcrFailed(f"OCR failed: {exc}") from exc
        self.breaker.record_success()
        return result

    def _maybe_retry(
        self, engine: OcrEngine, prepared: Prepared, raw: list[RawLine], start: float
    ) -> tuple[Prepared, list[RawLine]]:
        """When the read is weak, read again at the scale the other text-size estimate gives
        (or at twice the size) and keep whichever Tesseract is more confident about."""
        opts = self.preprocess
        if not self.retry_below or not opts.rescale or prepared.base is None:
            return prepared, raw
        quality, chars = text_quality(raw)
        if quality >= self.retry_below and chars >= 10:
            return prepared, raw
        candidates: list[float] = []
        alt = prepared.alt_line_height_px
        if alt is not None:
            candidates.append(scale_for(alt, prepared.base.size, opts))
        candidates.append(min(opts.max_scale, prepared.scale * 2.0))
        for scale in candidates:
            if abs(scale - prepared.scale) / prepared.scale < 0.25:
                continue
            remaining = self.timeout_seconds - (time.monotonic() - start)
            if remaining <= 0.5:
                break
            other = prepared.rescaled(scale)
            try:
                raw2 = engine.recognize(other.image, remaining)
            except OcrTimeout:
                break
            q2, c2 = text_quality(raw2)
            if q2 > quality + 3 and c2 >= 0.5 * chars:
                return other, raw2
            return prepared, raw
        return prepared, raw

    def _maybe_reread_lang(
        self, engine: OcrEngine, prepared: Prepared, raw: list[RawLine], start: float
    ) -> tuple[list[RawLine], Lang | None]:
        """Detect the language of the first read; when the pool reads several languages,
        read again with that language alone (fewer accent confusions such as è/é, à/a)."""
        text = "\n".join(" ".join(w.text for w in line.words) for line in raw)
        lang = detect_lang(text)
        if lang is None or not self.reread_lang:
            return raw, lang
        code = _LANG_TO_TESS[lang]
        if code not in self.languages.split("+") or code == self.languages:
            return raw, lang
        remaining = self.timeout_seconds - (time.monotonic() - start)
        if remaining <= 0.5:
            return raw, lang
        try:
            raw2 = engine.recognize(prepared.image, remaining, lang=code)
        except OcrTimeout:
            return raw, lang
        q1, c1 = text_quality(raw)
        q2, c2 = text_quality(raw2)
        if q2 >= q1 - 2 and c2 >= 0.8 * c1:
            return raw2, lang
        return raw, lang

    def _reread_weak_lines(
        self, engine: OcrEngine, prepared: Prepared, raw: list[RawLine], start: float
    ) -> list[RawLine]:
        """Read each line holding a weak word again, alone (single-line mode on a crop of
        the line), and keep the new reading when Tesseract is clearly more sure of it and
        it has about as much text. In page mode a line is read with its neighbours' layout
        noise; alone, digits such as 5/9 and a short unit ("g") are often read right."""
        if not self.reread_lines_below:
            return raw
        image = prepared.image
        out: list[RawLine] = []
        for line in raw:
            weakest = min((w.conf for w in line.words if _is_wordlike(w.text)), default=100.0)
            remaining = self.timeout_seconds - (time.monotonic() - start)
            if weakest >= self.reread_lines_below or remaining <= 0.5:
                out.append(line)
                continue
            x0, y0, x1, y1 = line.box
            pad = max(4, (y1 - y0) // 3)
            left, top = max(0, x0 - pad), max(0, y0 - pad)
            crop = image.crop((left, top, min(image.width, x1 + pad), min(image.height, y1 + pad)))
            try:
                again = engine.recognize(crop, remaining, psm=SINGLE_LINE_PSM)
            except OcrTimeout:
                out.append(line)
                continue
            candidate = _shift_line(again, left, top, line) if len(again) == 1 else None
            out.append(candidate if candidate and _clearly_better(candidate, line) else line)
        return out

    def _read_upright(self, upright: Image.Image, start: float) -> OcrResult:
        engine = self._borrow()
        try:
            prepared = prepare(upright, self.preprocess, engine.measure_lines, engine.locate_lines)
            remaining = self.timeout_seconds - (time.monotonic() - start)
            if remaining <= 0:
                raise OcrTimeout("OCR timed out during preprocessing")
            raw = engine.recognize(prepared.image, remaining)
            prepared, raw = self._maybe_retry(engine, prepared, raw, start)
            raw, lang = self._maybe_reread_lang(engine, prepared, raw, start)
            raw = self._reread_weak_lines(engine, prepared, raw, start)
        finally:
            self._engines.put(engine)
        fixed = recover_lines(raw, prepared.image, self._fraction_reader)
        lines = [_to_line(line, prepared, factor, notes) for line, factor, notes in fixed]
        lines = [line for line in lines if line.text.strip()]
        if not lines:
            raise NoTextFound("no text found in the image")
        text = "\n".join(line.text for line in lines)
        return OcrResult(
            text=text,
            lines=tuple(lines),
            lang=lang or detect_lang(text),
            engine_seconds=time.monotonic() - start,
            image_size=upright.size,
            settings=self.settings_key,
            extra={"scale": prepared.scale, "skew_deg": prepared.angle_deg},
        )


def _is_wordlike(text: str) -> bool:
    """A token with a letter or digit (bullets and stray punctuation are not judged)."""
    return any(ch.isalnum() for ch in text)


def _line_quality(line: RawLine) -> tuple[float, int]:
    """(mean confidence of the word-like tokens weighted by length, their characters)."""
    chars = 0
    total = 0.0
    for w in line.words:
        if _is_wordlike(w.text):
            chars += len(w.text)
            total += w.conf * len(w.text)
    return (total / chars if chars else 0.0), chars


#: a re-read may change the digits of a line only when it reads them at least this sure
REREAD_DIGIT_CONF = 85.0


def _digits(words: Sequence[RawWord]) -> str:
    return "".join(ch for w in words for ch in w.text if ch.isdigit())


def _mean_conf(words: Sequence[RawWord]) -> float:
    judged = [w.conf for w in words if _is_wordlike(w.text)]
    return sum(judged) / len(judged) if judged else 0.0


def _clearly_better(new: RawLine, old: RawLine) -> bool:
    """Is the re-read of a line better? More confident overall, the weakest word stronger,
    about as much text, and every part that reads differently more confident than the
    part it replaces; a change of digits (a quantity) needs a sure reading, so that a
    re-read never trades one doubtful amount for another."""
    q_new, c_new = _line_quality(new)
    q_old, c_old = _line_quality(old)
    if not c_new or abs(c_new - c_old) > max(2, 0.25 * c_old):
        return False
    weakest_new = min((w.conf for w in new.words if _is_wordlike(w.text)), default=0.0)
    weakest_old = min((w.conf for w in old.words if _is_wordlike(w.text)), default=0.0)
    if q_new < q_old + 3 or weakest_new <= weakest_old:
        return False
    a = [w.text for w in old.words]
    b = [w.text for w in new.words]
    for tag, i0, i1, j0, j1 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        before, after = old.words[i0:i1], new.words[j0:j1]
        # word for word when the counts match, else the changed stretch as a whole
        pairs = (
            [((x,), (y,)) for x, y in zip(before, after, strict=True)]
            if len(before) == len(after)
            else [(before, after)]
        )
        for was, now in pairs:
            if not _changed_for_the_better(was, now):
                return False
    return True


def _changed_for_the_better(was: Sequence[RawWord], now: Sequence[RawWord]) -> bool:
    if [w.text for w in was] == [w.text for w in now]:
        return True
    if not any(_is_wordlike(w.text) for w in (*was, *now)):
        return True  # bullets, stray punctuation
    if _mean_conf(now) <= _mean_conf(was):
        return False
    return _digits(was) == _digits(now) or all(
        w.conf >= REREAD_DIGIT_CONF for w in now if any(ch.isdigit() for ch in w.text)
    )


def _shift_line(lines: list[RawLine], dx: int, dy: int, original: RawLine) -> RawLine:
    """The one line read from a crop, moved back to page coordinates (box of the original)."""
    words = tuple(
        RawWord(w.text, (w.box[0] + dx, w.box[1] + dy, w.box[2] + dx, w.box[3] + dy), w.conf)
        for w in lines[0].words
    )
    return RawLine(words, original.box, lines[0].conf)


def text_quality(lines: list[RawLine]) -> tuple[float, int]:
    """(mean word confidence 0..100 weighted by length, number of characters)."""
    chars = 0
    total = 0.0
    for line in lines:
        for w in line.words:
            n = len(w.text)
            chars += n
            total += w.conf * n
    return (total / chars if chars else 0.0), chars


def _to_line(
    raw: RawLine, prepared: Prepared, factor: float = 1.0, notes: tuple[str, ...] = ()
) -> OcrLine:
    words = tuple(
        OcrWord(
            text=w.text,
            bbox=prepared.to_source(*w.box),
            confidence=max(0.0, min(1.0, w.conf / 100.0)),
        )
        for w in raw.words
    )
    text = " ".join(w.text for w in raw.words)
    conf = (
        min(w.confidence for w in words) * 0.5
        + (sum(w.confidence for w in words) / len(words)) * 0.5
        if words
        else 0.0
    )
    return OcrLine(
        text=text,
        bbox=prepared.to_source(*raw.box),
        confidence=max(0.0, min(1.0, conf * factor)),
        words=words,
        notes=notes,
    )


def box_of(words: tuple[OcrWord, ...]) -> BoundingBox:
    x0 = min(w.bbox.left for w in words)
    y0 = min(w.bbox.top for w in words)
    x1 = max(w.bbox.left + w.bbox.width for w in words)
    y1 = max(w.bbox.top + w.bbox.height for w in words)
    return BoundingBox(x0, y0, x1 - x0, y1 - y0)
