"""What the OCR returns, and the OCR errors. Frozen, plain data."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from just_ingredients.domain import BoundingBox, Lang


@dataclass(frozen=True, slots=True)
class OcrWord:
    text: str
    bbox: BoundingBox
    confidence: float  # in [0, 1]


@dataclass(frozen=True, slots=True)
class OcrLine:
    text: str
    bbox: BoundingBox  # in the upright (EXIF-oriented) input image
    confidence: float  # in [0, 1]
    words: tuple[OcrWord, ...] = ()
    #: notes from post-processing, e.g. ``("fraction:½",)`` or ``("fraction:dropped",)``
    notes: tuple[str, ...] = ()

    def with_changes(self, **changes: Any) -> OcrLine:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class OcrResult:
    text: str  # the lines joined by "\n" (line i of text.splitlines() is lines[i])
    lines: tuple[OcrLine, ...]
    lang: Lang | None
    engine_seconds: float
    image_size: tuple[int, int]  # (width, height) of the upright input image
    settings: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def confidence(self) -> float:
        """Mean line confidence weighted by line length (0 when there is no text)."""
        total = sum(len(line.text) for line in self.lines)
        if not total:
            return 0.0
        return sum(line.confidence * len(line.text) for line in self.lines) / total

    def line_for(self, index: int) -> OcrLine:
        return self.lines[index]


class OcrError(Exception):
    code: ClassVar[str] = "ocr_error"


class OcrTimeout(OcrError):
    code = "ocr_timeout"


class OcrFailed(OcrError):
    code = "ocr_failed"


class CircuitOpen(OcrError):
    code = "ocr_circuit_open"

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NoTextFound(OcrError):
    code = "ocr_no_text"


class TessdataNotFound(OcrError):
    """The Tesseract language data is not installed (a deployment error)."""

    code = "ocr_tessdata_missing"


@dataclass(frozen=True, slots=True)
class RawWord:
    """A word as Tesseract returned it, in the prepared image (internal to vision/)."""

    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    conf: float  # 0..100


@dataclass(frozen=True, slots=True)
class RawLine:
    words: tuple[RawWord, ...]
    box: tuple[int, int, int, int]
    conf: float
