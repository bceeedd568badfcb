"""Image → text with boxes and confidences (pure library: no Telegram, no database).

pool = OcrPool(size=settings.ocr_workers, languages=settings.ocr_languages,
               timeout_seconds=settings.ocr_timeout_seconds,
               max_image_bytes=settings.max_image_bytes)
result = await pool.read(image_bytes)   # OcrResult: text, lines (bbox, confidence, words)
"""

from just_ingredients.vision.breaker import BreakerState, CircuitBreaker
from just_ingredients.vision.crops import crop_line
from just_ingredients.vision.engine import OcrPool, detect_lang, resolve_tessdata, settings_key
from just_ingredients.vision.intake import (
    BadAspectRatio,
    CorruptImage,
    EmptyImage,
    ImageRejected,
    ImageTooLarge,
    ImageTooSmall,
    LoadedImage,
    TooManyPixels,
    UnsupportedFormat,
    load_image,
    sniff_format,
)
from just_ingredients.vision.preprocess import PreprocessOptions
from just_ingredients.vision.result import (
    CircuitOpen,
    NoTextFound,
    OcrError,
    OcrFailed,
    OcrLine,
    OcrResult,
    OcrTimeout,
    OcrWord,
    TessdataNotFound,
)

__all__ = [
    "BadAspectRatio",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpen",
    "CorruptImage",
    "EmptyImage",
    "ImageRejected",
    "ImageTooLarge",
    "ImageTooSmall",
    "LoadedImage",
    "NoTextFound",
    "OcrError",
    "OcrFailed",
    "OcrLine",
    "OcrPool",
    "OcrResult",
    "OcrTimeout",
    "OcrWord",
    "PreprocessOptions",
    "TessdataNotFound",
    "TooManyPixels",
    "UnsupportedFormat",
    "crop_line",
    "detect_lang",
    "load_image",
    "resolve_tessdata",
    "settings_key",
    "sniff_format",
]
