"""Inline keyboards. Callback data is `<key>:<action>` (≤ 64 bytes): `key` is a short
owner-scoped key stored in the database (`service.store_callback`) whose payload names the
draft or recipe; `action` says which button of that keyboard was pressed (`e3` = edit line 3).
A pressed button is resolved with `service.load_callback(user, key)`, so another user's or a
forged key resolves to nothing."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from just_ingredients.bot.views import plain
from just_ingredients.domain import Lang

#: Telegram allows 100 buttons per keyboard; keep room for the fixed rows
MAX_LINE_BUTTONS = 80
PER_ROW = 4
SEPARATOR = ":"


def data(key: str, action: str) -> str:
    value = f"{key}{SEPARATOR}{action}"
    if len(value.encode()) > 64:
        raise ValueError(f"callback data over 64 bytes: {value!r}")
    return value


def split_data(value: str | None) -> tuple[str, str] | None:
    if not value or SEPARATOR not in value:
        return None
    key, action = value.split(SEPARATOR, 1)
    return (key, action) if key and action else None


def _button(text: str, key: str, action: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data(key, action))


def review(key: str, lang: Lang, count: int) -> InlineKeyboardMarkup:
    """Edit/delete per line (4 buttons a row), then add, rename, save, cancel."""
    buttons = []
    for n in range(1, min(count, MAX_LINE_BUTTONS // 2) + 1):
        buttons.append(_button(plain(lang, "btn_edit", n=n), key, f"e{n}"))
        buttons.append(_button(plain(lang, "btn_delete", n=n), key, f"x{n}"))
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    rows.append(
        [_button(plain(lang, "btn_add"), key, "a"), _button(plain(lang, "btn_rename"), key, "n")]
    )
    rows.append(
        [
            _button(plain(lang, "btn_confirm"), key, "ok"),
            _button(plain(lang, "btn_cancel"), key, "no"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def next_actions(key: str, lang: Lang) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[
            _button(plain(lang, "btn_send_another"), key, "photo"),
            _button(plain(lang, "btn_my_recipes"), key, "list"),
            _button(plain(lang, "btn_search"), key, "search"),
        ]]
    )  # fmt: skip


def recipe_list(
    key: str, lang: Lang, names: Sequence[str], *, has_prev: bool, has_next: bool
) -> InlineKeyboardMarkup:
    rows = [[_button(name[:60], key, f"v{i}")] for i, name in enumerate(names)]
    nav = []
    if has_prev:
        nav.append(_button(plain(lang, "btn_prev"), key, "prev"))
    if has_next:
        nav.append(_button(plain(lang, "btn_next"), key, "next"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def recipe_detail(key: str, lang: Lang) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(plain(lang, "btn_recipe_rename"), key, "ren"),
             _button(plain(lang, "btn_recipe_edit"), key, "edit")],
            [_button(plain(lang, "btn_recipe_delete"), key, "del"),
             _button(plain(lang, "btn_back"), key, "back")],
        ]
    )  # fmt: skip


def confirm_delete(key: str, lang: Lang) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(plain(lang, "btn_yes_delete"), key, "yes"),
                _button(plain(lang, "btn_no"), key, "keep"),
            ]
        ]
    )


def languages(key: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button("English", key, "en"), _button("Français", key, "fr")]])
