"""The domain: what a recipe's ingredient list is made of.

Frozen dataclasses shared by every layer. Nothing here knows about Telegram, SQL or
Tesseract; `parsing/` produces these, `storage/` stores them, `bot/` and `cli.py` show them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")

#: below this confidence an ingredient is shown as doubtful and offered for correction
DOUBTFUL_BELOW = 0.75


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """Pixel box of a source line in the (oriented) image: left, top, width, height."""

    left: int
    top: int
    width: int
    height: int

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.width, self.height]


@dataclass(frozen=True, slots=True)
class Amount:
    """One amount as written: `1 1/2 cups`, `150 g`, `2-3`. Quantity is None for `a pinch`-free
    lines such as `salt to taste`; unit is a canonical code or None."""

    quantity: float | None
    quantity_max: float | None = None
    unit: str | None = None
    unit_text: str | None = None

    def __post_init__(self) -> None:
        for value in (self.quantity, self.quantity_max):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise ValueError(f"quantity must be finite and non-negative, got {value!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "quantity_max": self.quantity_max,
            "unit": self.unit,
            "unit_text": self.unit_text,
        }


@dataclass(frozen=True, slots=True)
class Ingredient:
    """One ingredient line: `2 cups all-purpose flour, sifted`.

    `raw` is always the source line exactly as given to the parser; `name` has the quantity,
    unit, partitive and modifiers removed; `comment` keeps the modifiers (`sifted`,
    `(optional)`, `à température ambiante`); `alternatives` keeps the other amounts of lines
    such as `150g/5¼oz` or `1 cup (240 ml)` (the first amount wins).
    """

    raw: str
    name: str
    quantity: float | None = None
    quantity_max: float | None = None
    unit: str | None = None
    unit_text: str | None = None
    comment: str | None = None
    alternatives: tuple[Amount, ...] = ()
    section: str | None = None
    confidence: float = 1.0
    bbox: BoundingBox | None = None

    def __post_init__(self) -> None:
        for value in (self.quantity, self.quantity_max):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise ValueError(f"quantity must be finite and non-negative, got {value!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within [0, 1], got {self.confidence!r}")

    @property
    def amount(self) -> Amount:
        return Amount(self.quantity, self.quantity_max, self.unit, self.unit_text)

    @property
    def doubtful(self) -> bool:
        return self.confidence < DOUBTFUL_BELOW

    def with_changes(self, **changes: Any) -> Ingredient:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The `ingredients[]` object of DESIGN.md §3 (plus optional extra keys)."""
        out: dict[str, Any] = {
            "quantity": self.quantity,
            "quantity_max": self.quantity_max,
            "unit": self.unit,
            "unit_text": self.unit_text,
            "name": self.name,
            "raw": self.raw,
            "confidence": round(self.confidence, 3),
            "comment": self.comment,
        }
        if self.alternatives:
            out["alternatives"] = [a.to_json() for a in self.alternatives]
        if self.section:
            out["section"] = self.section
        if self.bbox is not None:
            out["bbox"] = self.bbox.as_list()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ingredient:
        bbox = data.get("bbox")
        return cls(
            raw=str(data.get("raw", "")),
            name=str(data.get("name", "")),
            quantity=_opt_float(data.get("quantity")),
            quantity_max=_opt_float(data.get("quantity_max")),
            unit=data.get("unit"),
            unit_text=data.get("unit_text"),
            comment=data.get("comment"),
            alternatives=tuple(
                Amount(
                    _opt_float(a.get("quantity")),
                    _opt_float(a.get("quantity_max")),
                    a.get("unit"),
                    a.get("unit_text"),
                )
                for a in data.get("alternatives") or ()
            ),
            section=data.get("section"),
            confidence=float(data.get("confidence", 1.0)),
            bbox=BoundingBox(*bbox) if bbox else None,
        )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


class DraftStatus(StrEnum):
    REVIEWING = "reviewing"
    SAVED = "saved"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class DraftPage:
    """One photo of a draft: the hash of its bytes (the OCR cache key) and its Telegram
    `file_id` (to download it again for a doubtful line's crop; the image is never kept)."""

    sha256: str
    file_id: str

    def to_json(self) -> dict[str, str]:
        return {"sha256": self.sha256, "file_id": self.file_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DraftPage:
        return cls(sha256=str(data["sha256"]), file_id=str(data.get("file_id") or ""))


@dataclass(frozen=True, slots=True)
class Draft:
    """A scanned ingredient list under review in a chat, before it becomes a Recipe."""

    id: int
    user_id: int  # the owner's Telegram id
    chat_id: int
    ingredients: tuple[Ingredient, ...]
    name: str | None = None
    lang: Lang = "en"
    message_id: int | None = None
    status: DraftStatus = DraftStatus.REVIEWING
    #: what the owner is being asked for: None, "name", "add", or "edit:<position>"
    awaiting: str | None = None
    #: the photos the lines came from, in order
    pages: tuple[DraftPage, ...] = ()
    #: the saved recipe this draft edits (or, once saved, the recipe it became)
    recipe_id: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recipe:
    id: int
    user_id: int  # the owner's Telegram id
    name: str
    ingredients: tuple[Ingredient, ...] = field(default_factory=tuple)
    lang: Lang = "en"
    created_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "lang": self.lang,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "ingredients": [i.to_json() for i in self.ingredients],
        }
