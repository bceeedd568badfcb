"""The conversation (DESIGN.md §4), one handler per thing a person does.

Every piece of state lives in the database through `service.py`: the draft under review, the
question the bot is waiting for an answer to (`Draft.awaiting`), the payload behind each
button, the processed update ids. A restart between two messages changes nothing.

Deliberate choices:
- channel posts and edited channel posts are ignored (the bot is not meant for channels and
  an answer there would be public); edited messages get a short "send it again" answer in
  private chats;
- in groups the bot only answers when addressed: a command with `@botname`, a reply to one
  of its messages, or a mention; button presses always work;
- the Telegram `file_id` of each photo of a draft is kept in `Draft.pages` (never the image
  itself) so that a doubtful line's crop can be cut from a fresh download at edit time; a
  draft opened to edit a saved recipe carries its id in `Draft.recipe_id`;
- photos wait for a free OCR engine in a bounded line (`ocr_queue.py`): their senders see
  their place in it, and beyond OCR_QUEUE_LIMIT a photo is refused before anything is
  downloaded or stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardMarkup, Message, MessageEntity, Update, User
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from just_ingredients import service
from just_ingredients.bot import keyboards
from just_ingredients.bot.inbox import Inbox
from just_ingredients.bot.ocr_queue import OcrBusy, OcrQueue, Seat
from just_ingredients.bot.views import (
    plain,
    recipe_text,
    review_text,
    split_message,
    t,
)
from just_ingredients.config import Settings
from just_ingredients.domain import Draft, DraftPage, Ingredient, Lang
from just_ingredients.i18n import pick_lang
from just_ingredients.observability import Metrics
from just_ingredients.storage import InboxEntry
from just_ingredients.vision.crops import crop_line
from just_ingredients.vision.engine import OcrPool
from just_ingredients.vision.intake import ImageRejected
from just_ingredients.vision.result import OcrError

log = logging.getLogger(__name__)

#: the Bot API refuses to serve files bigger than this (getFile: "file is too big")
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
PAGE_SIZE = 5
#: OCR errors counted in ji_ocr_failures_total{reason} (no text found is not a failure)
OCR_FAILURE_REASONS = {
    "OcrTimeout": "timeout",
    "OcrFailed": "crash",
    "CircuitOpen": "circuit_open",
    "TessdataNotFound": "crash",
    "OcrError": "crash",
}
SEARCH_LIMIT = 10
#: /export argument → format (no argument: JSON)
EXPORT_ARGS: dict[str, service.ExportFormat] = {
    "": "json",
    "json": "json",
    "csv": "csv",
    "md": "md",
    "markdown": "md",
}
COMMANDS = ("start", "help", "recipes", "search", "export", "language", "cancel")

Context = ContextTypes.DEFAULT_TYPE


@dataclass
class Deps:
    """What the handlers work with (resources, not conversation state)."""

    db: Any  # storage.Database
    pool: OcrPool | None
    settings: Settings
    metrics: Metrics
    #: admission to the OCR engines (photos in flight, not conversation state)
    ocr_queue: OcrQueue = field(default_factory=lambda: OcrQueue(1, 20))
    #: webhook mode: accepted updates kept until handled (`inbox.py`)
    inbox: Inbox | None = None


def deps(context: Context) -> Deps:
    value = context.application.bot_data["deps"]
    assert isinstance(value, Deps)
    return value


async def user_lang(context: Context, user: User | None) -> Lang:
    """The language chosen with /language, else the one of the Telegram client."""
    return await language_of(deps(context).db, user)


async def language_of(db: Any, user: User | None) -> Lang:
    if user is None:
        return "en"
    chosen = await service.user_language(db, user.id)
    return chosen or pick_lang(user.language_code)


def version(ingredients: tuple[Ingredient, ...]) -> str:
    """Fingerprint of a draft's lines: a keyboard made for other lines is stale."""
    blob = json.dumps([i.to_json() for i in ingredients], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


# --- the gate: exactly-once, groups, channels (group -1) ---------------------------------


def update_kind(update: Update) -> str:
    for kind in (
        "message",
        "callback_query",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "my_chat_member",
        "inline_query",
    ):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


def addressed(update: Update, bot: Bot) -> bool:
    """In a group: a command to @us, a reply to one of our messages, or a mention of us."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    if message is None:
        return False
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    me = f"@{bot.username}".lower()
    entities = {**message.parse_entities(), **message.parse_caption_entities()}
    for entity, text in entities.items():
        text = text.lower()
        if entity.type == MessageEntity.MENTION and text == me:
            return True
        if entity.type == MessageEntity.BOT_COMMAND and text.endswith(me):
            return True
    return False


async def gate(update: Update, context: Context) -> None:
    d = deps(context)
    d.metrics.updates.labels(kind=update_kind(update)).inc()
    if update.channel_post is not None or update.edited_channel_post is not None:
        raise ApplicationHandlerStop  # deliberately ignored (see the module docstring)
    chat = update.effective_chat
    in_group = chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    if in_group and not addressed(update, context.bot):
        raise ApplicationHandlerStop  # group talk not meant for us: not even recorded
    if d.inbox is not None and d.inbox.holds(update.update_id):
        return  # claimed when the webhook received it (or taken over from a dead process)
    try:
        first = await service.claim_update(d.db, update.update_id)
    except Exception as error:
        if not service.is_database_error(error):
            raise
        await _report(update, context, error)
        raise ApplicationHandlerStop from None
    if not first:
        log.info("duplicate update ignored", extra={"update_id": update.update_id})
        raise ApplicationHandlerStop


# --- sending ---------------------------------------------------------------------------------


async def send_or_edit(
    context: Context,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit_id: int | None = None,
) -> int:
    """Show `text` (split over several messages when long; the keyboard goes on the last),
    editing message `edit_id` in place for the first part. Returns the last message id."""
    chunks = split_message(text)
    last_id = edit_id
    for index, chunk in enumerate(chunks):
        is_last = index == len(chunks) - 1
        reply_markup = markup if is_last else None
        if index == 0 and edit_id is not None:
            try:
                await context.bot.edit_message_text(
                    chunk, chat_id=chat_id, message_id=edit_id, reply_markup=reply_markup
                )
                continue
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    continue
                log.info("edit failed, sending instead", extra={"reason": str(error)})
        sent = await context.bot.send_message(chat_id, chunk, reply_markup=reply_markup)
        last_id = sent.message_id
    assert last_id is not None
    return last_id


async def show_review(
    context: Context,
    draft: Draft,
    lang: Lang,
    *,
    edit_id: int | None = None,
    note: str | None = None,
) -> Draft:
    d = deps(context)
    key = await service.store_callback(
        d.db, draft.user_id, {"k": "draft", "id": draft.id, "v": version(draft.ingredients)}
    )
    markup = keyboards.review(key, lang, len(draft.ingredients))
    text = review_text(draft, lang, note=note)
    message_id = await send_or_edit(context, draft.chat_id, text, markup, edit_id=edit_id)
    if message_id != draft.message_id:
        previous = draft.message_id
        draft = await service.update_draft(d.db, draft.user_id, draft.id, message_id=message_id)
        if previous is not None and previous != edit_id:
            # the older review loses its buttons (they would only answer "no longer valid")
            with contextlib.suppress(TelegramError):
                await context.bot.edit_message_reply_markup(
                    draft.chat_id, previous, reply_markup=None
                )
    return draft


def question_markup(chat_id: int) -> ForceReply | None:
    """In a group the answer to a question must be a reply to the bot (that is how it knows
    the message is for it): ask the client to open a reply."""
    return ForceReply(selective=True) if chat_id < 0 else None


async def ask(context: Context, chat_id: int, text: str) -> None:
    await context.bot.send_message(chat_id, text, reply_markup=question_markup(chat_id))


async def show_saved(
    context: Context, chat_id: int, user_id: int, text: str, lang: Lang, edit_id: int | None
) -> None:
    key = await service.store_callback(deps(context).db, user_id, {"k": "next"})
    await send_or_edit(context, chat_id, text, keyboards.next_actions(key, lang), edit_id=edit_id)


# --- commands --------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    lang = await user_lang(context, user)
    await message.reply_text(t(lang, "start", name=user.first_name))


async def help_command(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    lang = await user_lang(context, update.effective_user)
    await update.effective_message.reply_text(t(lang, "help"))


async def recipes_command(update: Update, context: Context) -> None:
    assert update.effective_chat is not None
    assert update.effective_user is not None
    lang = await user_lang(context, update.effective_user)
    await show_list(context, update.effective_chat.id, update.effective_user.id, lang, 0)


async def show_list(
    context: Context,
    chat_id: int,
    user_id: int,
    lang: Lang,
    offset: int,
    edit_id: int | None = None,
) -> None:
    d = deps(context)
    page = await service.list_recipes(d.db, user_id, limit=PAGE_SIZE, offset=offset)
    if not page.items:
        await send_or_edit(context, chat_id, t(lang, "recipes_empty"), edit_id=edit_id)
        return
    key = await service.store_callback(
        d.db, user_id, {"k": "list", "ids": [r.id for r in page.items], "off": offset}
    )
    lines = [
        t(lang, "recipes_page", first=offset + 1, last=offset + len(page.items), total=page.total)
    ]
    for n, r in enumerate(page.items, offset + 1):
        lines.append(t(lang, "recipe_line", n=n, name=r.name, count=r.ingredient_count))
    markup = keyboards.recipe_list(
        key,
        lang,
        [r.name for r in page.items],
        has_prev=offset > 0,
        has_next=offset + len(page.items) < page.total,
    )
    await send_or_edit(context, chat_id, "\n".join(lines), markup, edit_id=edit_id)


async def search_command(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    lang = await user_lang(context, user)
    query = " ".join(context.args or []).strip()
    if not query:
        await message.reply_text(t(lang, "search_usage"))
        return
    d = deps(context)
    page = await service.search_recipes(d.db, user.id, query[:200], limit=SEARCH_LIMIT)
    if not page.items:
        await message.reply_text(t(lang, "search_none", query=query[:200]))
        return
    key = await service.store_callback(
        d.db, user.id, {"k": "list", "ids": [r.id for r in page.items], "off": 0}
    )
    lines = [t(lang, "search_results", query=query[:200], total=page.total)]
    for n, r in enumerate(page.items, 1):
        lines.append(t(lang, "recipe_line", n=n, name=r.name, count=r.ingredient_count))
    markup = keyboards.recipe_list(
        key, lang, [r.name for r in page.items], has_prev=False, has_next=False
    )
    await send_or_edit(context, message.chat_id, "\n".join(lines), markup)


async def export_command(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    lang = await user_lang(context, user)
    d = deps(context)
    fmt = EXPORT_ARGS.get(context.args[0].lower() if context.args else "")
    if fmt is None:
        await message.reply_text(t(lang, "export_usage"))
        return
    total = (await service.list_recipes(d.db, user.id, limit=1)).total
    if not total:
        await message.reply_text(t(lang, "export_empty"))
        return
    text = await service.export_recipes(d.db, user.id, fmt)
    await context.bot.send_chat_action(message.chat_id, ChatAction.UPLOAD_DOCUMENT)
    await message.reply_document(
        document=text.encode("utf-8"),
        filename=f"recipes.{fmt}",
        caption=t(lang, "export_caption", count=total),
    )


async def language_command(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    lang = await user_lang(context, user)
    key = await service.store_callback(deps(context).db, user.id, {"k": "lang"})
    await message.reply_text(t(lang, "language_prompt"), reply_markup=keyboards.languages(key))


async def cancel_command(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    lang = await user_lang(context, user)
    d = deps(context)
    draft = await service.current_draft(d.db, user.id, message.chat_id)
    if draft is None:
        await message.reply_text(t(lang, "nothing_to_cancel"))
        return
    if draft.awaiting is not None and draft.awaiting != "rename":
        await service.update_draft(d.db, user.id, draft.id, awaiting=None)
        await message.reply_text(t(lang, "input_cancelled"))
        return
    await service.cancel_draft(d.db, user.id, draft.id)
    if draft.message_id is not None:
        # the old review may be gone; its buttons are stale anyway
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(
                message.chat_id, draft.message_id, reply_markup=None
            )
    await message.reply_text(t(lang, "cancelled"))


async def unknown_command(update: Update, context: Context) -> None:
    await help_command(update, context)


# --- photos ------------------------------------------------------------------------------------


def caption_name(caption: str | None, bot_username: str | None) -> str | None:
    """The caption as a recipe name: trimmed, without a mention of us, ≤ 255 characters."""
    if not caption:
        return None
    if bot_username:
        caption = caption.replace(f"@{bot_username}", " ")
    try:
        return service.clean_name(caption)
    except service.InvalidInput:
        return None  # empty or too long: the bot asks for a name at save time


async def keep_typing(bot: Bot, chat_id: int, every: float = 4.5) -> None:
    """Telegram shows "typing…" for 5 s: repeat it while a long photo is being read."""
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id, ChatAction.TYPING)


async def on_photo(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    d = deps(context)
    lang = await user_lang(context, user)
    media = message.photo[-1] if message.photo else message.document
    assert media is not None
    limit = min(TELEGRAM_DOWNLOAD_LIMIT, d.settings.max_image_bytes)
    too_large = t(lang, "image_too_large", limit_mb=round(limit / 1_000_000))
    if media.file_size is not None and media.file_size > limit:
        await message.reply_text(too_large)
        return
    try:
        seat = d.ocr_queue.reserve()
    except OcrBusy:  # refused before anything is downloaded or stored: nothing half done
        d.metrics.ocr_failures.labels(reason="busy").inc()
        await message.reply_text(t(lang, "ocr_busy"))
        return
    try:
        await read_photo(update, context, lang, seat, too_large)
    finally:
        seat.release()


async def show_status(
    update: Update, context: Context, lang: Lang, replay: InboxEntry | None
) -> int:
    """Send "Reading your photo…" (its id is kept in the inbox, so that a process taking
    the photo over after a crash edits it instead of leaving it behind); the message id."""
    message = update.effective_message
    assert message is not None
    inbox = deps(context).inbox
    earlier = replay.progress.get("status_message_id") if replay is not None else None
    if isinstance(earlier, int):
        with contextlib.suppress(BadRequest):  # deleted meanwhile: send a new one
            await context.bot.edit_message_text(
                t(lang, "reading_photo_again"), chat_id=message.chat_id, message_id=earlier
            )
            return earlier
    status = await message.reply_text(t(lang, "reading_photo"))
    if inbox is not None:
        await inbox.progress(update.update_id, status_message_id=status.message_id)
    return status.message_id


async def read_photo(
    update: Update, context: Context, lang: Lang, seat: Seat, too_large: str
) -> None:
    """Download the photo, wait for an engine (telling the user their place in the line when
    all are busy), read it and show the review in place of the "Reading…" message."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    d = deps(context)
    media = message.photo[-1] if message.photo else message.document
    assert media is not None
    limit = min(TELEGRAM_DOWNLOAD_LIMIT, d.settings.max_image_bytes)
    await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    replay = d.inbox.replay(update.update_id) if d.inbox is not None else None
    status_id = await show_status(update, context, lang, replay)

    async def tell(text: str) -> None:
        await send_or_edit(context, message.chat_id, text, edit_id=status_id)

    if replay is not None:
        draft = await service.current_draft(d.db, user.id, message.chat_id)
        if draft is not None and any(p.file_id == media.file_id for p in draft.pages):
            # read before the crash, only the answer was missing
            await show_review(context, draft, lang, edit_id=status_id)
            return
    try:
        file = await media.get_file()
    except BadRequest as error:
        if "too big" in str(error).lower():
            await tell(too_large)
            return
        raise
    if file.file_size is not None and file.file_size > limit:
        await tell(too_large)
        return
    data = bytes(await file.download_as_bytearray())
    if d.pool is None:
        await tell(t(lang, "ocr_failed"))
        return

    async def queued(position: int) -> None:
        with contextlib.suppress(TelegramError):
            await tell(t(lang, "ocr_queued", position=position))

    if await seat.wait_turn(queued, on_moved=queued):
        with contextlib.suppress(TelegramError):
            await tell(t(lang, "reading_photo"))
    typing_task = asyncio.create_task(keep_typing(context.bot, message.chat_id))
    try:
        scan = await service.scan_image(
            d.pool, data, db=d.db, user_id=user.id, source=media.file_unique_id
        )
    except ImageRejected as error:
        await tell(t(lang, error.code, limit_mb=round(limit / 1_000_000)))
        return
    except OcrError as error:
        reason = OCR_FAILURE_REASONS.get(type(error).__name__)
        if reason is not None:
            d.metrics.ocr_failures.labels(reason=reason).inc()
        await tell(t(lang, error.code))
        return
    finally:
        typing_task.cancel()
        seat.release()  # the engine is free for the next photo; the rest is database work
        del data  # the image is not kept; edits re-download it by file_id
    if not scan.cached:
        d.metrics.ocr_seconds.observe(scan.engine_seconds)
    d.metrics.ingredients_extracted.inc(len(scan.ingredients))
    page = DraftPage(scan.sha256, media.file_id)
    draft = await service.current_draft(d.db, user.id, message.chat_id)
    if draft is not None and draft.awaiting != "rename":
        if not scan.ingredients:
            await tell(t(lang, "review_nothing_added"))
            return
        draft = await service.update_draft(
            d.db,
            user.id,
            draft.id,
            ingredients=(*draft.ingredients, *scan.ingredients),
            pages=(*draft.pages, page),
            awaiting=None,
        )
        note = t(lang, "review_added", count=len(scan.ingredients))
        await show_review(context, draft, lang, edit_id=status_id, note=note)
        return
    if not scan.ingredients:
        await tell(t(lang, "no_ingredients"))
        return
    if draft is not None:  # a pending recipe rename is dropped by a new photo
        await service.cancel_draft(d.db, user.id, draft.id)
    draft = await service.create_draft(
        d.db,
        user.id,
        message.chat_id,
        scan.ingredients,
        name=caption_name(message.caption, context.bot.username),
        lang=scan.lang,
        message_id=status_id,
        pages=[page],
    )
    await show_review(context, draft, lang, edit_id=status_id)


# --- text answers --------------------------------------------------------------------------


async def on_text(update: Update, context: Context) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None
    assert user is not None
    assert message.text is not None
    d = deps(context)
    lang = await user_lang(context, user)
    draft = await service.current_draft(d.db, user.id, message.chat_id)
    if draft is None:
        await message.reply_text(t(lang, "send_photo"))
        return
    if draft.awaiting is None:
        await message.reply_text(t(lang, "use_buttons"))
        return
    text = message.text
    if context.bot.username:
        text = text.replace(f"@{context.bot.username}", " ")
    awaiting = draft.awaiting
    if awaiting in ("name", "name:save", "rename"):
        try:
            name = service.clean_name(text)
        except service.InvalidInput:
            await message.reply_text(t(lang, "name_invalid"))
            return
        if awaiting == "rename":
            await finish_rename(context, draft, name, lang)
            return
        draft = await service.update_draft(d.db, user.id, draft.id, name=name, awaiting=None)
        if awaiting == "name:save":
            await save_draft(context, draft, lang, edit_id=None)
        else:
            await show_review(context, draft, lang)
        return
    try:
        new = service.parse_ingredient_lines(text, draft.lang)
    except service.LineRejected as error:
        await message.reply_text(t(lang, error.code))
        return
    items = list(draft.ingredients)
    note = None
    if awaiting.startswith("edit:") and awaiting[5:].isdigit():
        n = int(awaiting[5:])
        if 1 <= n <= len(items):
            items[n - 1 : n] = new
            note = t(lang, "line_updated", n=n)
        else:
            items.extend(new)
    else:  # "add"
        items.extend(new)
    draft = await service.update_draft(
        d.db, user.id, draft.id, ingredients=tuple(items), awaiting=None
    )
    await show_review(context, draft, lang, note=note)


async def finish_rename(context: Context, draft: Draft, name: str, lang: Lang) -> None:
    d = deps(context)
    recipe_id = draft.recipe_id
    try:
        if recipe_id is None:
            raise service.RecipeNotFound(0, draft.user_id)
        recipe = await service.rename_recipe(d.db, draft.user_id, recipe_id, name)
    except service.RecipeNotFound:
        await service.cancel_draft(d.db, draft.user_id, draft.id)
        await context.bot.send_message(draft.chat_id, t(lang, "recipe_gone"))
        return
    await service.cancel_draft(d.db, draft.user_id, draft.id)  # the question is answered
    await show_recipe(
        context,
        draft.chat_id,
        draft.user_id,
        recipe.id,
        lang,
        0,
        note=t(lang, "recipe_renamed", name=recipe.name),
    )


async def save_draft(context: Context, draft: Draft, lang: Lang, *, edit_id: int | None) -> None:
    d = deps(context)
    recipe_id = draft.recipe_id
    if recipe_id is not None:
        recipe = await service.apply_draft_to_recipe(d.db, draft.user_id, draft.id, recipe_id)
        text = t(lang, "recipe_updated", name=recipe.name)
    else:
        recipe = await service.finish_draft(d.db, draft.user_id, draft.id)
        d.metrics.recipes_saved.inc()
        text = t(lang, "saved", name=recipe.name, count=len(recipe.ingredients))
    await show_saved(context, draft.chat_id, draft.user_id, text, lang, edit_id)


# --- buttons -------------------------------------------------------------------------------

ButtonResult = str | None  # the notice shown by answerCallbackQuery, if any


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    user = query.from_user
    lang = await user_lang(context, user)
    parsed = keyboards.split_data(query.data)
    payload = None
    if parsed is not None:
        payload = await service.load_callback(deps(context).db, user.id, parsed[0])
    if payload is None or parsed is None or not isinstance(query.message, Message):
        await query.answer(plain(lang, "stale_button"))
        return
    handler = BUTTONS.get(str(payload.get("k")))
    notice: ButtonResult = plain(lang, "stale_button")
    if handler is not None:
        try:
            notice = await handler(context, query.message, user.id, lang, payload, parsed[1])
        except service.NotFound:
            notice = plain(lang, "stale_button")
    await query.answer(notice)


async def review_button(
    context: Context,
    message: Message,
    user_id: int,
    lang: Lang,
    payload: dict[str, Any],
    action: str,
) -> ButtonResult:
    d = deps(context)
    draft = await service.get_draft(d.db, user_id, int(payload["id"]))  # owner-scoped
    if draft.status.value != "reviewing" or payload.get("v") != version(draft.ingredients):
        return plain(lang, "stale_button")
    count = len(draft.ingredients)
    if action[:1] in ("e", "x") and action[1:].isdigit():
        n = int(action[1:])
        if not 1 <= n <= count:
            return plain(lang, "stale_button")
        if action[0] == "x":
            items = draft.ingredients[: n - 1] + draft.ingredients[n:]
            draft = await service.update_draft(
                d.db, user_id, draft.id, ingredients=items, awaiting=None
            )
            await show_review(context, draft, lang, edit_id=message.message_id)
            return None
        await service.update_draft(d.db, user_id, draft.id, awaiting=f"edit:{n}")
        await ask_line(context, draft, n, lang)
        return None
    if action == "a":
        await service.update_draft(d.db, user_id, draft.id, awaiting="add")
        await ask(context, draft.chat_id, t(lang, "ask_add"))
        return None
    if action == "n":
        await service.update_draft(d.db, user_id, draft.id, awaiting="name")
        await ask(context, draft.chat_id, t(lang, "ask_name"))
        return None
    if action == "ok":
        if not draft.ingredients:
            return plain(lang, "review_empty")
        if draft.name is None:
            await service.update_draft(d.db, user_id, draft.id, awaiting="name:save")
            await ask(context, draft.chat_id, t(lang, "ask_name_to_save"))
            return None
        await save_draft(context, draft, lang, edit_id=message.message_id)
        return None
    if action == "no":
        await service.cancel_draft(d.db, user_id, draft.id)
        await send_or_edit(context, draft.chat_id, t(lang, "cancelled"), edit_id=message.message_id)
        return None
    return plain(lang, "stale_button")


async def ask_line(context: Context, draft: Draft, n: int, lang: Lang) -> None:
    """Ask for line `n` again; a doubtful line comes with its crop of the photo."""
    item = draft.ingredients[n - 1]
    prompt = t(lang, "ask_edit", n=n, line=item.raw[:300])
    crop = None
    if item.doubtful and item.bbox is not None:
        try:
            crop = await line_crop(context, draft, item)
        except (TelegramError, ImageRejected, OcrError, ValueError, OSError) as error:
            log.info("no crop for a doubtful line", extra={"reason": str(error)})
    if crop is not None:
        await context.bot.send_photo(
            draft.chat_id, photo=crop, caption=prompt, reply_markup=question_markup(draft.chat_id)
        )
    else:
        await ask(context, draft.chat_id, prompt)


async def line_crop(context: Context, draft: Draft, item: Ingredient) -> bytes | None:
    """The crop of `item` from the photo it came from, downloaded again by file_id."""
    d = deps(context)
    pages = [p for p in draft.pages if p.file_id]
    assert item.bbox is not None
    for page in pages:
        file = await context.bot.get_file(page.file_id)
        data = bytes(await file.download_as_bytearray())
        if len(pages) > 1 and d.pool is not None:
            # several photos: find the one whose reading (cached by sha256) has this line
            scan = await service.scan_image(d.pool, data, db=d.db)
            if not any(i.bbox == item.bbox and i.raw == item.raw for i in scan.ingredients):
                continue
        return await asyncio.to_thread(
            crop_line, data, item.bbox, max_bytes=d.settings.max_image_bytes
        )
    return None


async def next_button(
    context: Context,
    message: Message,
    user_id: int,
    lang: Lang,
    payload: dict[str, Any],
    action: str,
) -> ButtonResult:
    if action == "photo":
        await context.bot.send_message(message.chat_id, t(lang, "send_another"))
    elif action == "list":
        await show_list(context, message.chat_id, user_id, lang, 0)
    elif action == "search":
        await context.bot.send_message(message.chat_id, t(lang, "search_prompt"))
    else:
        return plain(lang, "stale_button")
    return None


async def list_button(
    context: Context,
    message: Message,
    user_id: int,
    lang: Lang,
    payload: dict[str, Any],
    action: str,
) -> ButtonResult:
    ids = [int(i) for i in payload.get("ids", [])]
    offset = int(payload.get("off", 0))
    if action == "prev":
        await show_list(
            context,
            message.chat_id,
            user_id,
            lang,
            max(0, offset - PAGE_SIZE),
            edit_id=message.message_id,
        )
        return None
    if action == "next":
        await show_list(
            context, message.chat_id, user_id, lang, offset + PAGE_SIZE, edit_id=message.message_id
        )
        return None
    if action[:1] == "v" and action[1:].isdigit() and int(action[1:]) < len(ids):
        recipe_id = ids[int(action[1:])]
        await show_recipe(
            context, message.chat_id, user_id, recipe_id, lang, offset, edit_id=message.message_id
        )
        return None
    return plain(lang, "stale_button")


async def show_recipe(
    context: Context,
    chat_id: int,
    user_id: int,
    recipe_id: int,
    lang: Lang,
    offset: int,
    *,
    edit_id: int | None = None,
    note: str | None = None,
) -> None:
    d = deps(context)
    try:
        recipe = await service.get_recipe(d.db, user_id, recipe_id)
    except service.RecipeNotFound:
        await send_or_edit(context, chat_id, t(lang, "recipe_gone"), edit_id=edit_id)
        return
    key = await service.store_callback(
        d.db, user_id, {"k": "recipe", "id": recipe.id, "off": offset}
    )
    text = recipe_text(recipe, lang, note=note)
    await send_or_edit(context, chat_id, text, keyboards.recipe_detail(key, lang), edit_id=edit_id)


async def recipe_button(
    context: Context,
    message: Message,
    user_id: int,
    lang: Lang,
    payload: dict[str, Any],
    action: str,
) -> ButtonResult:
    d = deps(context)
    recipe_id, offset = int(payload["id"]), int(payload.get("off", 0))
    chat_id = message.chat_id
    if action == "back":
        await show_list(context, chat_id, user_id, lang, offset, edit_id=message.message_id)
        return None
    recipe = await service.get_recipe(d.db, user_id, recipe_id)  # owner-scoped
    if action == "del":
        key = await service.store_callback(
            d.db, user_id, {"k": "delete", "id": recipe.id, "off": offset}
        )
        await send_or_edit(
            context,
            chat_id,
            t(lang, "confirm_delete", name=recipe.name),
            keyboards.confirm_delete(key, lang),
            edit_id=message.message_id,
        )
        return None
    if action in ("ren", "edit"):
        if await service.current_draft(d.db, user_id, chat_id) is not None:
            return plain(lang, "review_busy")
        draft = await service.create_draft(
            d.db,
            user_id,
            chat_id,
            recipe.ingredients if action == "edit" else (),
            name=recipe.name,
            lang=recipe.lang,
            recipe_id=recipe.id,
        )
        if action == "ren":
            await service.update_draft(d.db, user_id, draft.id, awaiting="rename")
            await ask(context, chat_id, t(lang, "ask_recipe_name", name=recipe.name))
        else:
            await show_review(context, draft, lang)
        return None
    return plain(lang, "stale_button")


async def delete_button(
    context: Context,
    message: Message,
    user_id: int,
    lang: Lang,
    payload: dict[str, Any],
    action: str,
) -> ButtonResult:
    d = deps(context)
    recipe_id, offset = int(payload["id"]), int(payload.get("off", 0))
    if action == "keep":
        await show_recipe(
            context, message.chat_id, user_id, recipe_id, lang, offset, edit_id=message.message_id
        )
        return None
    if action != "yes":
        return plain(lang, "stale_button")
    recipe = await service.get_recipe(d.db, user_id, recipe_id)
    await service.delete_recipe(d.db, user_id, recipe_id)
    await send_or_edit(
        context,
        message.chat_id,
        t(lang, "recipe_deleted", name=recipe.name),
        edit_id=message.message_id,
    )
    return None


async def language_button(
    context: Context,
    message: Message,
    user_id: int,
    lang: Lang,
    payload: dict[str, Any],
    action: str,
) -> ButtonResult:
    if action not in ("en", "fr"):
        return plain(lang, "stale_button")
    chosen: Lang = "fr" if action == "fr" else "en"
    await service.set_user_language(deps(context).db, user_id, chosen)
    await send_or_edit(
        context, message.chat_id, t(chosen, "language_set"), edit_id=message.message_id
    )
    return None


ButtonHandler = Callable[
    [Context, Message, int, Lang, dict[str, Any], str], Awaitable[ButtonResult]
]
BUTTONS: dict[str, ButtonHandler] = {
    "draft": review_button,
    "next": next_button,
    "list": list_button,
    "recipe": recipe_button,
    "delete": delete_button,
    "lang": language_button,
}


# --- everything else -------------------------------------------------------------------


def other_kind(message: Message) -> str:
    """The message key answering a message the bot cannot use."""
    if message.sticker is not None:
        return "unsupported_sticker"
    if message.voice is not None or message.audio is not None:
        return "unsupported_voice"
    if message.video is not None or message.video_note is not None or message.animation:
        return "unsupported_video"
    if message.location is not None or message.venue is not None:
        return "unsupported_location"
    if message.contact is not None:
        return "unsupported_contact"
    if message.poll is not None:
        return "unsupported_poll"
    if message.dice is not None:
        return "unsupported_dice"
    if message.document is not None:
        return "unsupported_document"
    return "unsupported_message"


async def on_other(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return
    if not (message.from_user or message.sender_chat):
        return
    lang = await user_lang(context, update.effective_user)
    await message.reply_text(t(lang, other_kind(message)))


async def on_edited(update: Update, context: Context) -> None:
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or chat.type != ChatType.PRIVATE:
        return  # in groups an edit is not addressed to us: ignored
    lang = await user_lang(context, update.effective_user)
    await context.bot.send_message(chat.id, t(lang, "edited_ignored"))


# --- errors ------------------------------------------------------------------------------------


async def _report(update: object, context: Context, error: BaseException | None) -> None:
    """Log once (update id, user id; never the token) and tell the user when possible."""
    upd = update if isinstance(update, Update) else None
    user = upd.effective_user if upd is not None else None
    if isinstance(error, Forbidden):  # the user blocked the bot: nobody to tell, no alert
        log.info(
            "user unreachable: %s",
            error,
            extra={
                "update_id": upd.update_id if upd is not None else None,
                "user_id": user.id if user is not None else None,
            },
        )
        return
    is_db = service.is_database_error(error)
    metrics = context.application.bot_data.get("deps")
    if is_db and isinstance(metrics, Deps):
        metrics.metrics.db_errors.inc()
    log.error(
        "update failed: %s",
        type(error).__name__ if error is not None else "unknown",
        exc_info=error if error is not None and not is_db else None,
        extra={
            "update_id": upd.update_id if upd is not None else None,
            "user_id": user.id if user is not None else None,
            "error": str(error)[:300],
        },
    )
    alerts = context.application.bot_data.get("alerts")
    if alerts is not None and error is not None:
        if is_db:
            alerts.database_error(error, where="update handler")
        else:
            alerts.handler_error(error, update_id=upd.update_id if upd is not None else None)
    if upd is None:
        return
    lang = pick_lang(user.language_code if user is not None else None)
    text = t(lang, "error_database" if is_db else "error_generic")
    if upd.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await upd.callback_query.answer(text[:200], show_alert=False)
    chat = upd.effective_chat
    if chat is not None and chat.type != ChatType.CHANNEL:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat.id, text)


async def tell_abandoned(
    application: Application[Any, Any, Any, Any, Any, Any], update: Update
) -> None:
    """An update whose handling was interrupted too often (see `inbox.py`): ask the user to
    send it again, in their language."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == ChatType.CHANNEL:
        return
    lang = pick_lang(user.language_code if user is not None else None)
    d = application.bot_data.get("deps")
    if isinstance(d, Deps):
        with contextlib.suppress(Exception):  # the database may be what failed
            lang = await language_of(d.db, user)
    with contextlib.suppress(TelegramError):
        await application.bot.send_message(chat.id, t(lang, "update_abandoned"))


async def on_error(update: object, context: Context) -> None:
    await _report(update, context, context.error)
    raise ApplicationHandlerStop


# --- wiring ----------------------------------------------------------------------------------


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler, in the order the conversation needs them."""
    application.add_handler(TypeHandler(Update, gate), group=-1)
    private_or_group = ~filters.UpdateType.CHANNEL_POSTS
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edited))
    messages = filters.UpdateType.MESSAGE & private_or_group
    application.add_handler(CommandHandler("start", start, filters=messages))
    application.add_handler(CommandHandler("help", help_command, filters=messages))
    application.add_handler(CommandHandler("recipes", recipes_command, filters=messages))
    application.add_handler(CommandHandler("search", search_command, filters=messages))
    application.add_handler(CommandHandler("export", export_command, filters=messages))
    application.add_handler(CommandHandler("language", language_command, filters=messages))
    application.add_handler(CommandHandler("cancel", cancel_command, filters=messages))
    application.add_handler(MessageHandler(messages & filters.COMMAND, unknown_command))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(
        MessageHandler(messages & (filters.PHOTO | filters.Document.IMAGE), on_photo)
    )
    application.add_handler(MessageHandler(messages & filters.TEXT, on_text))
    application.add_handler(MessageHandler(messages, on_other))
    application.add_error_handler(on_error)
