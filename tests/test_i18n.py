import re
from importlib import resources

import pytest

from just_ingredients.i18n import message_ids, pick_lang, translate


def test_english_and_french_have_the_same_keys() -> None:
    assert message_ids("en") == message_ids("fr")
    assert len(message_ids("en")) > 10


def _variables(lang: str) -> dict[str, set[str]]:
    text = resources.files("just_ingredients.locales").joinpath(f"{lang}.ftl").read_text("utf-8")
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        if m := re.match(r"^([a-z0-9_-]+) =(.*)$", line):
            found[m[1]] = set(re.findall(r"\$([a-z_]+)", m[2]))
    return found


def test_messages_use_the_same_variables_in_both_languages() -> None:
    assert _variables("en") == _variables("fr")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("fr", "fr"), ("fr-CA", "fr"), ("en-GB", "en"), ("de", "en"), (None, "en")],
)
def test_pick_lang_from_telegram_language_code(code: str | None, expected: str) -> None:
    assert pick_lang(code) == expected


def test_translate_fills_variables_and_falls_back_to_the_key() -> None:
    assert "20 MB" in translate("en", "image_too_large", limit_mb=20)
    assert "20 Mo" in translate("fr", "image_too_large", limit_mb=20)
    assert translate("fr", "no-such-key") == "no-such-key"
