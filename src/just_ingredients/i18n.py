"""Translations: Fluent `.ftl` files in `locales/`, one per language, with the same keys.

Shared by the bot and the CLI so that a refused image or an OCR fault reads the same
everywhere. Keys for refusals are the stable `code` of the typed errors (`image_empty`, …).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fluent.runtime import FluentBundle, FluentResource

from just_ingredients.domain import LANGS, Lang

DEFAULT_LANG: Lang = "en"


@cache
def _bundle(lang: Lang) -> FluentBundle:
    text = resources.files("just_ingredients.locales").joinpath(f"{lang}.ftl").read_text("utf-8")
    bundle = FluentBundle([lang], use_isolating=False)
    bundle.add_resource(FluentResource(text))
    return bundle


def message_ids(lang: Lang) -> frozenset[str]:
    return frozenset(_bundle(lang)._messages)


def pick_lang(code: str | None) -> Lang:
    """A Telegram `language_code` (`fr`, `fr-CA`, `en-GB`, None) → one of ours."""
    if code:
        base = code.split("-")[0].lower()
        for lang in LANGS:
            if base == lang:
                return lang
    return DEFAULT_LANG


def translate(lang: Lang, key: str, **args: Any) -> str:
    """The message `key` in `lang`, falling back to English, then to the key itself."""
    for candidate in (lang, DEFAULT_LANG):
        bundle = _bundle(candidate)
        if bundle.has_message(key):
            message = bundle.get_message(key)
            if message.value is None:
                break
            text, _errors = bundle.format_pattern(message.value, args)
            return str(text)
    return key
