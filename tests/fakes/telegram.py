"""A fake Telegram Bot API server that speaks the real HTTP protocol.

Point python-telegram-bot at it and the bot cannot tell the difference for the methods the
project uses::

    async with FakeTelegram() as fake:
        bot = Bot(fake.token, **fake.bot_kwargs())   # base_url / base_file_url
        fake.push(fake.make_text_update(user_id=42, text="/start"))
        await fake.wait_for(lambda: fake.sent_messages(42))

It can also run as a separate process beside a real bot process (end-to-end tests)::

    python -m tests.fakes.telegram --port 0 --token T --ready-file /tmp/fake.json
    # (or python tests/fakes/telegram.py ...; prints FAKE_TELEGRAM_URL=http://127.0.0.1:N)

and is then driven over HTTP through the ``/_fake/...`` control routes, most easily with
:class:`RemoteFakeTelegram` and :func:`run_fake_telegram_process`.

Errors follow Telegram: ``{"ok": false, "error_code": N, "description": "...",
"parameters": {"retry_after": N}}``. A wrong token answers 401 ``Unauthorized`` (real Telegram
says 401 for a well-formed but revoked token and 404 for a malformed one; PTB maps both to
``InvalidToken``). An injected 502 answers an HTML page, as the nginx in front of Telegram does.

This module imports only the standard library and aiohttp (Pillow optionally, to read image
sizes), so it can run as a plain script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import BytesIO
from typing import Any, TypedDict

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]

#: matches the shape of a real token (and the project's redaction regex)
DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijklmno"
BOT_USERNAME = "just_ingredients_test_bot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses larger files ("file is too big")

#: parameters whose form value is a plain string, never JSON
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "url",
        "secret_token",
        "callback_query_id",
        "file_id",
        "parse_mode",
        "language_code",
        "action",
        "inline_message_id",
        "ip_address",
        "description",
        "short_description",
        "name",
        "query",
        "emoji",
        "title",
        "address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "question",
        "explanation",
        "message_effect_id",
        "business_connection_id",
        "photo",
        "document",
        "sticker",
        "voice",
        "video",
        "audio",
        "animation",
        "thumbnail",
    }
)
_INT_PARAMS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "user_id"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class BotUrls(TypedDict):
    """Keyword arguments for ``telegram.Bot`` / ``ApplicationBuilder`` pointing at the fake."""

    base_url: str
    base_file_url: str


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes

    def describe(self) -> JSONDict:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
        }


@dataclass
class Call:
    """One Bot API request as the fake received and answered it."""

    method: str
    params: JSONDict
    time: float
    http_method: str = "POST"
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    response: Any = None
    faulted: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200

    def to_json(self) -> JSONDict:
        params = {
            k: (v.describe() if isinstance(v, UploadedFile) else v) for k, v in self.params.items()
        }
        return {
            "method": self.method,
            "params": params,
            "time": self.time,
            "http_method": self.http_method,
            "status": self.status,
            "response": self.response,
            "faulted": self.faulted,
            "files": {k: f.describe() for k, f in self.files.items()},
        }


@dataclass
class Fault:
    status: int
    retry_after: int | None
    description: str | None
    count: int


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int
    width: int | None = None
    height: int | None = None


@dataclass
class Delivery:
    """One attempt to POST an update to the webhook."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    time: float

    def to_json(self) -> JSONDict:
        return {
            "update_id": self.update_id,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "time": self.time,
        }


@dataclass
class _Pending:
    update: JSONDict
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _HtmlChecker(HTMLParser):
    """Validates Telegram's HTML subset and returns the plain text, like the real server."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error is None and tag not in _HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error is not None:
            return
        if not self.stack or self.stack[-1] != tag:
            self.error = f'Unmatched end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram stores for a message (markup removed, surrounding whitespace trimmed),
    or ApiError 400 on bad HTML."""
    if not parse_mode or parse_mode.upper() != "HTML":
        return text.strip()
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error:
        raise ApiError(400, f"Bad Request: can't parse entities: {checker.error}")
    return "".join(checker.parts).strip()


def _thumbnail(data: bytes, width: int, height: int) -> bytes | None:
    try:
        from PIL import Image

        with Image.open(BytesIO(data)) as image:
            small = image.convert("RGB").resize((width, height))
        out = BytesIO()
        small.save(out, format="JPEG")
        return out.getvalue()
    except Exception:
        return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(BytesIO(data)) as image:
            return int(image.width), int(image.height)
    except Exception:
        return None


def _decode_param(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            return value
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegram:
    """In-process fake Bot API server on 127.0.0.1 (random free port unless ``port`` is given)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = BOT_USERNAME,
        webhook_retry_delay: float = 0.2,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.bot_username = bot_username
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._delivery_task: asyncio.Task[None] | None = None
        self._handlers: dict[str, tuple[str, Callable[[JSONDict], Awaitable[Any]]]] = {}
        for name in (
            "getMe",
            "getUpdates",
            "setWebhook",
            "deleteWebhook",
            "getWebhookInfo",
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
            "editMessageCaption",
            "deleteMessage",
            "answerCallbackQuery",
            "sendChatAction",
            "sendPhoto",
            "sendDocument",
            "setMyCommands",
            "getMyCommands",
            "deleteMyCommands",
            "getFile",
            "getChat",
            "close",
            "logOut",
            "setMyDescription",
            "setMyShortDescription",
            "setMyName",
            "setChatMenuButton",
        ):
            handler = getattr(self, "_api_" + name)
            self._handlers[name.lower()] = (name, handler)
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """``base_url`` for ``telegram.Bot`` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.url}/file/bot"

    def bot_kwargs(self) -> BotUrls:
        return {"base_url": self.api_base_url, "base_file_url": self.file_base_url}

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        control = web.RouteTableDef()
        control.get("/_fake/health")(self._ctl_health)
        control.post("/_fake/files")(self._ctl_add_file)
        control.post("/_fake/push")(self._ctl_push)
        control.post("/_fake/updates/{kind}")(self._ctl_make_update)
        control.get("/_fake/calls")(self._ctl_calls)
        control.get("/_fake/sent_messages")(self._ctl_sent_messages)
        control.get("/_fake/messages")(self._ctl_messages)
        control.get("/_fake/edits")(self._ctl_edits)
        control.get("/_fake/callback_answers")(self._ctl_callback_answers)
        control.get("/_fake/chat_actions")(self._ctl_chat_actions)
        control.get("/_fake/webhook")(self._ctl_webhook)
        control.post("/_fake/webhook/post")(self._ctl_webhook_post)
        control.post("/_fake/fail")(self._ctl_fail)
        control.post("/_fake/delay")(self._ctl_delay)
        control.post("/_fake/fail_file_downloads")(self._ctl_fail_downloads)
        control.post("/_fake/block")(self._ctl_block)
        control.post("/_fake/reset")(self._ctl_reset)
        app.add_routes(control)
        return app

    async def start(self) -> None:
        self._closing = False
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._delivery_task = asyncio.create_task(self._deliver_webhooks())

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._delivery_task is not None:
            self._delivery_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery_task
            self._delivery_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def reset(self) -> None:
        """Forget everything: calls, updates, messages, files, webhook, faults."""
        self._calls: list[Call] = []
        self._queue: list[_Pending] = []
        self._next_update_id = 100_000
        self._next_message_ids: dict[int, int] = {}
        self._messages: dict[int, dict[int, JSONDict]] = {}
        self._chats: dict[int, JSONDict] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_counter = 0
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._bot_texts: dict[str, JSONDict] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._delays: dict[str, list[float]] = {}
        self._download_faults: list[int] = []
        self._blocked: set[int] = set()
        self._poll_generation = 0
        self._closing = getattr(self, "_closing", False)
        self.webhook: JSONDict = {
            "url": "",
            "secret_token": None,
            "max_connections": 40,
            "allowed_updates": None,
        }
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.deliveries: list[Delivery] = []
        old: asyncio.Event | None = getattr(self, "_changed", None)
        self._changed: asyncio.Event | None = None
        if old is not None:
            old.set()

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        """Wake long polls, the webhook sender and ``wait_for``."""
        event = self._event()
        self._changed = asyncio.Event()
        event.set()

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` (``"*"`` for any) fail without effect."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.setdefault(method.lower(), []).append(
            Fault(status, retry_after, description, count)
        )

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` (``"*"`` for any) answer ``seconds`` late."""
        self._delays.setdefault(method.lower(), []).extend([seconds] * count)

    def fail_file_downloads(self, count: int = 1, status: int = 500) -> None:
        self._download_faults.extend([status] * count)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends to this chat answer 403."""
        self._blocked.add(int(chat_id))

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method.lower(), "*"):
            faults = self._faults.get(key)
            if faults:
                fault = faults[0]
                fault.count -= 1
                if fault.count <= 0:
                    faults.pop(0)
                return fault
        return None

    def _take_delay(self, method: str) -> float:
        for key in (method.lower(), "*"):
            delays = self._delays.get(key)
            if delays:
                return delays.pop(0)
        return 0.0

    # ------------------------------------------------------------------ files

    def add_file(
        self,
        data: bytes,
        *,
        file_unique_id: str | None = None,
        file_path: str | None = None,
        file_size: int | None = None,
        width: int | None = None,
        height: int | None = None,
        folder: str = "photos",
        extension: str = ".jpg",
    ) -> str:
        """Store bytes; returns a file_id that getFile and the download route serve.

        ``file_size`` overrides the size Telegram reports (to test limits without big data).
        """
        self._file_counter += 1
        n = self._file_counter
        file_id = f"AgACAgfake{n:05d}x{os.urandom(4).hex()}"
        if width is None or height is None:
            size = _image_size(data)
            if size is not None:
                width, height = size
        self._files[file_id] = StoredFile(
            file_id=file_id,
            file_unique_id=file_unique_id or f"AQADfake{n:05d}",
            file_path=file_path or f"{folder}/file_{n}{extension}",
            data=bytes(data),
            file_size=len(data) if file_size is None else file_size,
            width=width,
            height=height,
        )
        return file_id

    def file(self, file_id: str) -> StoredFile:
        return self._files[file_id]

    # ------------------------------------------------------------------ update builders

    def _new_update_id(self) -> int:
        self._next_update_id += 1
        return self._next_update_id

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_ids.get(chat_id, 0) + 1
        self._next_message_ids[chat_id] = message_id
        return message_id

    @staticmethod
    def _user(
        user_id: int,
        language_code: str | None = "en",
        username: str | None = None,
        first_name: str | None = None,
    ) -> JSONDict:
        user: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
            "username": username or f"user{user_id}",
        }
        if language_code:
            user["language_code"] = language_code
        return user

    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Just Ingredients (fake)",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _make_chat(self, user: JSONDict, chat_id: int | None, chat_type: str) -> JSONDict:
        if chat_type == "private":
            chat: JSONDict = {
                "id": chat_id if chat_id is not None else user["id"],
                "type": "private",
                "first_name": user["first_name"],
                "username": user.get("username"),
            }
        elif chat_type in ("group", "supergroup", "channel"):
            default = (-100_000_000_0000 - user["id"]) if chat_type != "group" else -user["id"]
            chat = {
                "id": chat_id if chat_id is not None else default,
                "type": chat_type,
                "title": f"Test {chat_type}",
            }
        else:
            raise ValueError(f"unknown chat_type {chat_type!r}")
        self._chats[chat["id"]] = chat
        return chat

    def _chat(self, chat_id: int) -> JSONDict:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        *,
        language_code: str | None = "en",
        chat_type: str = "private",
        username: str | None = None,
        **content: Any,
    ) -> JSONDict:
        user = self._user(user_id, language_code, username)
        chat = self._make_chat(user, chat_id, chat_type)
        message: JSONDict = {
            "message_id": self._new_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
        }
        if chat_type == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = user
        message.update({k: v for k, v in content.items() if v is not None})
        self._messages.setdefault(chat["id"], {})[message["message_id"]] = message
        return message

    def _wrap(self, key: str, payload: JSONDict) -> JSONDict:
        return {"update_id": self._new_update_id(), key: copy.deepcopy(payload)}

    def make_text_update(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        *,
        language_code: str | None = "en",
        chat_type: str = "private",
        username: str | None = None,
        entities: list[JSONDict] | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A text message; a leading ``/command`` gets its ``bot_command`` entity like Telegram."""
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        message = self._user_message(
            user_id,
            chat_id,
            language_code=language_code,
            chat_type=chat_type,
            username=username,
            text=text,
            entities=entities,
        )
        if reply_to_message_id is not None:
            replied = self._messages.get(message["chat"]["id"], {}).get(reply_to_message_id)
            message["reply_to_message"] = (
                copy.deepcopy(replied)
                if replied
                else {"message_id": reply_to_message_id, "date": 0, "chat": message["chat"]}
            )
        return self._wrap("message", message)

    def _photo_sizes(self, file_ids: str | Sequence[str]) -> list[JSONDict]:
        if isinstance(file_ids, str):
            stored = self._files[file_ids]
            width, height = stored.width or 1280, stored.height or 960
            sizes = []
            for scale_to in (90, 320, 800):
                if scale_to >= max(width, height):
                    break
                factor = scale_to / max(width, height)
                thumb_w, thumb_h = max(1, round(width * factor)), max(1, round(height * factor))
                # real smaller images when the bytes decode, a placeholder otherwise: a bot
                # that reads the wrong PhotoSize does not get the full picture by accident
                data = _thumbnail(stored.data, thumb_w, thumb_h) or b"THUMBNAIL"
                thumb_id = self.add_file(data, width=thumb_w, height=thumb_h)
                sizes.append(thumb_id)
            ids: list[str] = [*sizes, file_ids]
        else:
            ids = list(file_ids)
        result = []
        for index, file_id in enumerate(ids):
            stored = self._files[file_id]
            default = 90 * (index + 1) * 2
            result.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": stored.width or default,
                    "height": stored.height or round(default * 0.75),
                    "file_size": stored.file_size,
                }
            )
        return result

    def make_photo_update(
        self,
        user_id: int,
        file_ids: str | Sequence[str],
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
        username: str | None = None,
        media_group_id: str | None = None,
    ) -> JSONDict:
        """A photo message. One file_id gets smaller thumbnail sizes added before it (as
        Telegram sends several PhotoSize objects, largest last); a list is used as given."""
        message = self._user_message(
            user_id,
            chat_id,
            language_code=language_code,
            chat_type=chat_type,
            username=username,
            photo=self._photo_sizes(file_ids),
            caption=caption,
            media_group_id=media_group_id,
        )
        return self._wrap("message", message)

    def make_document_update(
        self,
        user_id: int,
        file_id: str,
        *,
        mime_type: str | None = "image/jpeg",
        file_name: str | None = "photo.jpg",
        file_size: int | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
        username: str | None = None,
    ) -> JSONDict:
        stored = self._files[file_id]
        document: JSONDict = {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size if file_size is None else file_size,
        }
        if mime_type is not None:
            document["mime_type"] = mime_type
        if file_name is not None:
            document["file_name"] = file_name
        message = self._user_message(
            user_id,
            chat_id,
            language_code=language_code,
            chat_type=chat_type,
            username=username,
            document=document,
            caption=caption,
        )
        return self._wrap("message", message)

    def make_callback_update(
        self,
        user_id: int,
        data: str,
        message_id: int,
        chat_id: int | None = None,
        *,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> JSONDict:
        """A button press on ``message_id`` (an unknown message becomes an inaccessible one)."""
        chat_id = user_id if chat_id is None else chat_id
        user = self._user(user_id, language_code, username)
        query_id = str(self._new_update_id() * 1000 + 7)
        self._callback_queries[query_id] = False
        stored = self._messages.get(chat_id, {}).get(message_id)
        message = (
            copy.deepcopy(stored)
            if stored
            else {"message_id": message_id, "date": 0, "chat": self._chat(chat_id)}
        )
        query = {
            "id": query_id,
            "from": user,
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": message,
        }
        return self._wrap("callback_query", query)

    def make_update(
        self, kind: str, user_id: int = 1001, chat_id: int | None = None, **kwargs: Any
    ) -> JSONDict:
        """Other update kinds: sticker, voice, video, video_note, audio, animation, location,
        contact, poll, dice, edited_message, channel_post, edited_channel_post, group_text,
        my_chat_member (``status="kicked"`` = the user blocked the bot), inline_query; and
        text, photo, document, callback (delegating to the ``make_*_update`` helpers)."""
        delegates: dict[str, Callable[..., JSONDict]] = {
            "text": self.make_text_update,
            "photo": self.make_photo_update,
            "document": self.make_document_update,
            "callback": self.make_callback_update,
        }
        if kind in delegates:
            if chat_id is not None:
                kwargs["chat_id"] = chat_id
            return delegates[kind](user_id, **kwargs)
        lang = kwargs.pop("language_code", "en")
        username = kwargs.pop("username", None)
        chat_type = kwargs.pop("chat_type", "private")

        def media(folder: str, ext: str, **extra: Any) -> JSONDict:
            data = kwargs.pop("data", b"\x00" * 64)
            file_id = self.add_file(data, folder=folder, extension=ext)
            stored = self._files[file_id]
            return {
                "file_id": file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.file_size,
                **extra,
            }

        def message(**content: Any) -> JSONDict:
            return self._user_message(
                user_id,
                chat_id,
                language_code=lang,
                chat_type=chat_type,
                username=username,
                **content,
            )

        content: JSONDict
        if kind == "sticker":
            content = {
                "sticker": media(
                    "stickers",
                    ".webp",
                    type="regular",
                    width=512,
                    height=512,
                    is_animated=False,
                    is_video=False,
                    emoji=kwargs.get("emoji", "😀"),
                )
            }
        elif kind == "voice":
            content = {"voice": media("voice", ".oga", duration=3, mime_type="audio/ogg")}
        elif kind == "audio":
            content = {"audio": media("music", ".mp3", duration=120, mime_type="audio/mpeg")}
        elif kind == "video":
            content = {
                "video": media(
                    "videos", ".mp4", width=640, height=480, duration=5, mime_type="video/mp4"
                )
            }
        elif kind == "video_note":
            content = {"video_note": media("video_notes", ".mp4", length=240, duration=5)}
        elif kind == "animation":
            content = {"animation": media("animations", ".mp4", width=320, height=240, duration=2)}
        elif kind == "location":
            content = {
                "location": {
                    "latitude": kwargs.get("latitude", 48.8566),
                    "longitude": kwargs.get("longitude", 2.3522),
                }
            }
        elif kind == "contact":
            content = {
                "contact": {
                    "phone_number": kwargs.get("phone_number", "+33100000000"),
                    "first_name": kwargs.get("first_name", "Alice"),
                    "user_id": kwargs.get("contact_user_id", 555),
                }
            }
        elif kind == "dice":
            content = {"dice": {"emoji": "🎲", "value": 4}}
        elif kind == "poll":
            options = kwargs.get("options", ["yes", "no"])
            content = {
                "poll": {
                    "id": str(self._new_update_id()),
                    "question": kwargs.get("question", "Dinner?"),
                    "options": [
                        {"text": o, "voter_count": 0, "persistent_id": f"opt{i}"}
                        for i, o in enumerate(options)
                    ],
                    "total_voter_count": 0,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": False,
                    "members_only": False,
                }
            }
        elif kind in ("edited_message", "edited_channel_post", "channel_post", "group_text"):
            if kind in ("channel_post", "edited_channel_post"):
                chat_type = "channel"
            elif kind == "group_text" and chat_type == "private":
                chat_type = "group"
            text = kwargs.get("text", "edited text" if kind.startswith("edited") else "hello")
            msg = message(text=text)
            if kind.startswith("edited"):
                msg["edit_date"] = int(time.time())
                if "message_id" in kwargs:
                    msg["message_id"] = kwargs["message_id"]
            key = "message" if kind == "group_text" else kind
            return self._wrap(key, msg)
        elif kind == "my_chat_member":
            user = self._user(user_id, lang, username)
            chat = self._make_chat(user, chat_id, chat_type)
            bot = self.bot_user()
            status = kwargs.get("status", "kicked")
            new: JSONDict = {"status": status, "user": bot}
            if status == "kicked":
                new["until_date"] = 0
            return self._wrap(
                "my_chat_member",
                {
                    "chat": chat,
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": {"status": "member", "user": bot},
                    "new_chat_member": new,
                },
            )
        elif kind == "inline_query":
            return self._wrap(
                "inline_query",
                {
                    "id": str(self._new_update_id()),
                    "from": self._user(user_id, lang, username),
                    "query": kwargs.get("query", ""),
                    "offset": "",
                },
            )
        else:
            raise ValueError(f"unknown update kind {kind!r}")
        return self._wrap("message", message(**content))

    def push(self, update: JSONDict) -> JSONDict:
        """Queue an update for getUpdates or the webhook. Pushing the same update again
        delivers it again (a duplicate delivery, same update_id)."""
        if "update_id" not in update:
            update = {"update_id": self._new_update_id(), **update}
        self._queue.append(_Pending(copy.deepcopy(update)))
        self._queue.sort(key=lambda p: p.update_id)
        self._notify()
        return update

    # ------------------------------------------------------------------ assertions

    def calls(self, method: str | None = None) -> list[Call]:
        if method is None:
            return list(self._calls)
        return [c for c in self._calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[JSONDict]:
        """Messages the bot sent (sendMessage/sendPhoto/sendDocument), as first returned."""
        return [
            copy.deepcopy(c.response)
            for c in self._calls
            if c.ok
            and c.method in ("sendMessage", "sendPhoto", "sendDocument")
            and (chat_id is None or c.response["chat"]["id"] == int(chat_id))
        ]

    def messages(self, chat_id: int) -> list[JSONDict]:
        """Current state (after edits and deletions) of every message in a chat."""
        return [copy.deepcopy(m) for _, m in sorted(self._messages.get(int(chat_id), {}).items())]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        found = self._messages.get(int(chat_id), {}).get(int(message_id))
        return copy.deepcopy(found) if found else None

    def edits(self, chat_id: int | None = None) -> list[JSONDict]:
        """Successful edits: their parameters plus ``method``."""
        return [
            {"method": c.method, **c.params}
            for c in self._calls
            if c.ok
            and c.method.startswith("editMessage")
            and (chat_id is None or c.params.get("chat_id") == int(chat_id))
        ]

    def deletions(self, chat_id: int | None = None) -> list[JSONDict]:
        return [
            dict(c.params)
            for c in self._calls
            if c.ok
            and c.method == "deleteMessage"
            and (chat_id is None or c.params.get("chat_id") == int(chat_id))
        ]

    def callback_answers(self) -> list[JSONDict]:
        return [dict(c.params) for c in self._calls if c.ok and c.method == "answerCallbackQuery"]

    def chat_actions(self, chat_id: int | None = None) -> list[str]:
        return [
            c.params["action"]
            for c in self._calls
            if c.ok
            and c.method == "sendChatAction"
            and (chat_id is None or c.params.get("chat_id") == int(chat_id))
        ]

    def pending_updates(self) -> list[JSONDict]:
        return [copy.deepcopy(p.update) for p in self._queue]

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
        interval: float = 0.02,
    ) -> Any:
        """Wait until ``predicate()`` (sync or async) is truthy; return its value.

        Raises TimeoutError listing the last calls, so a failing test says what happened."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                recent = [f"{c.method} {c.status} {c.params}" for c in self._calls[-10:]]
                raise TimeoutError(f"condition not met in {timeout}s; last calls: {recent}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event().wait(), min(interval, remaining))

    # ------------------------------------------------------------------ HTTP: Bot API

    @staticmethod
    def _error_body(code: int, description: str, parameters: JSONDict | None) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return body

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise ApiError(400, "Bad Request: can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: can't parse JSON object")
                raw.update(body)
            elif request.content_type in (
                "multipart/form-data",
                "application/x-www-form-urlencoded",
            ):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        raw[key] = value
        params = {key: _decode_param(key, value) for key, value in raw.items()}
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                if name in files:
                    params[key] = files[name]
        for key, uploaded in files.items():
            params.setdefault(key, uploaded)
        return params, files

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        entry = self._handlers.get(requested.lower())
        name, handler = entry if entry else (requested, None)
        call = Call(method=name, params={}, time=time.time(), http_method=request.method)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            call.params, call.files = await self._read_params(request)
            delay = self._take_delay(name)
            if delay:
                await asyncio.sleep(delay)
            fault = self._take_fault(name)
            if fault is not None:
                call.faulted = True
                call.status = fault.status
                self._record(call)
                return self._fault_response(fault)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(call.params)
            call.response = copy.deepcopy(result)
            self._record(call)
            body: JSONDict = {"ok": True, "result": result}
            if name == "setWebhook":
                body["description"] = (
                    "Webhook was set" if call.params.get("url") else "Webhook was deleted"
                )
            return web.json_response(body)
        except ApiError as exc:
            call.status = exc.code
            call.response = self._error_body(exc.code, exc.description, exc.parameters)
            self._record(call)
            return web.json_response(call.response, status=exc.code)

    def _fault_response(self, fault: Fault) -> web.Response:
        if fault.status == 502:
            return web.Response(
                status=502,
                content_type="text/html",
                text="<html><head><title>502 Bad Gateway</title></head>"
                "<body><center><h1>502 Bad Gateway</h1></center>"
                "</body></html>",
            )
        if fault.status == 429:
            description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
            body = self._error_body(429, description, {"retry_after": fault.retry_after})
        else:
            reasons = {
                500: "Internal Server Error",
                400: "Bad Request",
                403: "Forbidden",
                409: "Conflict",
                401: "Unauthorized",
            }
            description = fault.description or reasons.get(fault.status, "Error")
            params = {"retry_after": fault.retry_after} if fault.retry_after else None
            body = self._error_body(fault.status, description, params)
        return web.json_response(body, status=fault.status)

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._notify()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(self._error_body(401, "Unauthorized", None), status=401)
        path = request.match_info["path"]
        self._calls.append(Call("downloadFile", {"file_path": path}, time.time(), "GET"))
        if self._download_faults:
            status = self._download_faults.pop(0)
            self._calls[-1].status = status
            self._calls[-1].faulted = True
            return web.Response(status=status, text="Internal Server Error")
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        self._calls[-1].status = 404
        return web.json_response(self._error_body(404, "Not Found", None), status=404)

    # ------------------------------------------------------------------ Bot API methods

    def _chat_id(self, params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                if chat.get("username") and f"@{chat['username']}" == chat_id:
                    return int(chat["id"])
            raise ApiError(400, "Bad Request: chat not found")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat_id is empty")
        return chat_id

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = self._chat_id(params)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode())
                    if not 1 <= size <= 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                elif not (
                    {
                        "url",
                        "switch_inline_query",
                        "switch_inline_query_current_chat",
                        "copy_text",
                        "web_app",
                        "login_url",
                        "pay",
                        "callback_game",
                    }
                    & button.keys()
                ):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
        return markup

    def _bot_message(self, chat_id: int, params: JSONDict, **content: Any) -> JSONDict:
        message: JSONDict = {
            "message_id": self._new_message_id(chat_id),
            "from": self.bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        markup = self._check_markup(params.get("reply_markup"))
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        reply = params.get("reply_parameters") or (
            {"message_id": params["reply_to_message_id"]}
            if params.get("reply_to_message_id")
            else None
        )
        if isinstance(reply, dict) and reply.get("message_id"):
            replied = self._messages.get(chat_id, {}).get(int(reply["message_id"]))
            if replied is not None:
                message["reply_to_message"] = copy.deepcopy(replied)
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        return copy.deepcopy(message)

    def _caption(self, params: JSONDict) -> str | None:
        caption = params.get("caption")
        if caption is None:
            return None
        text = plain_text(str(caption), params.get("parse_mode"))
        if _utf16_len(text) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        return text

    async def _api_getMe(self, params: JSONDict) -> Any:
        return self.bot_user()

    async def _api_close(self, params: JSONDict) -> Any:
        return True

    async def _api_logOut(self, params: JSONDict) -> Any:
        return True

    async def _api_getChat(self, params: JSONDict) -> Any:
        chat = dict(self._chat(self._chat_id(params)))
        chat.setdefault("accent_color_id", 0)
        chat.setdefault("max_reaction_count", 11)
        return chat

    async def _api_sendMessage(self, params: JSONDict) -> Any:
        chat_id = self._target_chat(params)
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text = plain_text(raw, params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return self._bot_message(chat_id, params, text=text)

    def _editable(self, params: JSONDict) -> JSONDict | None:
        if params.get("inline_message_id"):
            return None
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        message = self._messages.get(chat_id, {}).get(message_id)  # type: ignore[arg-type]
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    _NOT_MODIFIED = (
        "Bad Request: message is not modified: specified new message content and "
        "reply markup are exactly the same as a current content and reply markup "
        "of the message"
    )

    def _apply_edit(
        self, message: JSONDict, key: str | None, value: str | None, markup: JSONDict | None
    ) -> JSONDict:
        new_markup = markup if markup and markup.get("inline_keyboard") else None
        same_content = key is None or message.get(key) == value
        if same_content and message.get("reply_markup") == new_markup:
            raise ApiError(400, self._NOT_MODIFIED)
        if key is not None:
            message[key] = value
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _api_editMessageText(self, params: JSONDict) -> Any:
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text = plain_text(raw, params.get("parse_mode"))
        if _utf16_len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = self._check_markup(params.get("reply_markup"))
        message = self._editable(params)
        if message is None:
            return True
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._apply_edit(message, "text", text, markup)

    async def _api_editMessageCaption(self, params: JSONDict) -> Any:
        caption = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"))
        message = self._editable(params)
        if message is None:
            return True
        return self._apply_edit(message, "caption", caption, markup)

    async def _api_editMessageReplyMarkup(self, params: JSONDict) -> Any:
        markup = self._check_markup(params.get("reply_markup"))
        message = self._editable(params)
        if message is None:
            return True
        return self._apply_edit(message, None, None, markup)

    async def _api_deleteMessage(self, params: JSONDict) -> Any:
        chat_id = self._chat_id(params)
        if self._messages.get(chat_id, {}).pop(params.get("message_id"), None) is None:  # type: ignore[arg-type]
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _api_answerCallbackQuery(self, params: JSONDict) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if self._callback_queries.get(query_id, True):
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        return True

    async def _api_sendChatAction(self, params: JSONDict) -> Any:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _input_file(self, value: Any, folder: str, extension: str) -> StoredFile:
        if isinstance(value, UploadedFile):
            return self._files[self.add_file(value.data, folder=folder, extension=extension)]
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._files[self.add_file(b"", folder=folder, extension=extension)]
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    async def _api_sendPhoto(self, params: JSONDict) -> Any:
        chat_id = self._target_chat(params)
        stored = self._input_file(params.get("photo"), "photos", ".jpg")
        caption = self._caption(params)
        return self._bot_message(
            chat_id, params, photo=self._photo_sizes(stored.file_id), caption=caption
        )

    async def _api_sendDocument(self, params: JSONDict) -> Any:
        chat_id = self._target_chat(params)
        value = params.get("document")
        stored = self._input_file(value, "documents", "")
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if isinstance(value, UploadedFile):
            document["file_name"] = value.filename
            document["mime_type"] = value.content_type
        return self._bot_message(chat_id, params, document=document, caption=self._caption(params))

    @staticmethod
    def _scope_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _api_setMyCommands(self, params: JSONDict) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be an array of at most 100 items")
        for command in commands:
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._scope_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _api_getMyCommands(self, params: JSONDict) -> Any:
        return copy.deepcopy(self._commands.get(self._scope_key(params), []))

    async def _api_deleteMyCommands(self, params: JSONDict) -> Any:
        self._commands.pop(self._scope_key(params), None)
        return True

    async def _api_setMyDescription(self, params: JSONDict) -> Any:
        self._bot_texts[f"description:{params.get('language_code') or ''}"] = params
        return True

    async def _api_setMyShortDescription(self, params: JSONDict) -> Any:
        self._bot_texts[f"short:{params.get('language_code') or ''}"] = params
        return True

    async def _api_setMyName(self, params: JSONDict) -> Any:
        self._bot_texts[f"name:{params.get('language_code') or ''}"] = params
        return True

    async def _api_setChatMenuButton(self, params: JSONDict) -> Any:
        return True

    async def _api_getFile(self, params: JSONDict) -> Any:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    # -- updates

    def _allowed(self, update: JSONDict, allowed: list[str] | None) -> bool:
        if not allowed:
            return True
        return any(kind in update for kind in allowed)

    async def _api_getUpdates(self, params: JSONDict) -> Any:
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll ends with 409 (two bot instances)
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.webhook["allowed_updates"] = allowed or None
        allowed = self.webhook["allowed_updates"]
        if offset > 0:
            self._queue = [p for p in self._queue if not (p.delivered and p.update_id < offset)]
        elif offset < 0:
            self._queue = self._queue[offset:]
        deadline = time.monotonic() + timeout
        while True:
            for pending in [p for p in self._queue if not self._allowed(p.update, allowed)]:
                self._queue.remove(pending)
            ready = self._queue[:limit]
            if ready or self._closing:
                for pending in ready:
                    pending.delivered = True
                return [copy.deepcopy(p.update) for p in ready]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event().wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                )
            if self.webhook["url"]:
                return []

    async def _api_setWebhook(self, params: JSONDict) -> Any:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if url and not url.startswith(("http://", "https://")):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        allowed = params.get("allowed_updates")
        self.webhook = {
            "url": url,
            "secret_token": str(secret) if secret else None,
            "max_connections": int(params.get("max_connections") or 40),
            "allowed_updates": allowed
            if isinstance(allowed, list) and allowed
            else self.webhook["allowed_updates"],
        }
        if url:
            self._poll_generation += 1  # pending long polls end
        self._notify()
        return True

    async def _api_deleteWebhook(self, params: JSONDict) -> Any:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook = {**self.webhook, "url": "", "secret_token": None}
        self._notify()
        return True

    async def _api_getWebhookInfo(self, params: JSONDict) -> Any:
        info: JSONDict = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook["url"]:
            info["max_connections"] = self.webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info

    async def _post_update(self, url: str, update: JSONDict) -> tuple[int | None, str | None]:
        """POST one update like Telegram does; (HTTP status, error message or None)."""
        headers = {"Content-Type": "application/json"}
        if self.webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        status: int | None = None
        error: str | None = None
        assert self._session is not None, "the fake is not started"
        try:
            async with self._session.post(
                url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                await response.read()
                status = response.status
                if not 200 <= status <= 299:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except TimeoutError:
            error = "Connection timed out"
        except aiohttp.ClientConnectionError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {exc.__class__.__name__}"
        return status, error

    async def post_to_webhook(self, update: JSONDict, times: int = 1) -> list[int | None]:
        """POST ``update`` to the webhook ``times`` times at once, outside the queue (concurrent
        duplicate delivery, as after a Telegram retry racing a slow answer). Returns the HTTP
        statuses (None on a connection error); recorded in :attr:`deliveries` too."""
        url = self.webhook["url"]
        if not url:
            raise RuntimeError("no webhook set")
        results = await asyncio.gather(*(self._post_update(url, update) for _ in range(times)))
        for status, error in results:
            self.deliveries.append(
                Delivery(int(update["update_id"]), url, status, error, time.time())
            )
        self._notify()
        return [status for status, _ in results]

    async def _deliver_webhooks(self) -> None:
        """POST queued updates one at a time, in order; retry the first until it gets a 2xx."""
        while not self._closing:
            url = self.webhook["url"]
            allowed = self.webhook["allowed_updates"]
            if url:
                for pending in [p for p in self._queue if not self._allowed(p.update, allowed)]:
                    self._queue.remove(pending)
            if not url or not self._queue:
                await self._event().wait()
                continue
            pending = self._queue[0]
            status, error = await self._post_update(url, pending.update)
            self.deliveries.append(Delivery(pending.update_id, url, status, error, time.time()))
            if error is None:
                if pending in self._queue:
                    self._queue.remove(pending)
                self._notify()
            else:
                self.last_error_date = int(time.time())
                self.last_error_message = error
                self._notify()
                await asyncio.sleep(self.webhook_retry_delay)

    # ------------------------------------------------------------------ HTTP: control API

    @staticmethod
    def _chat_query(request: web.Request) -> int | None:
        value = request.query.get("chat_id")
        return int(value) if value else None

    async def _ctl_health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "bot": self.bot_user()})

    async def _ctl_add_file(self, request: web.Request) -> web.Response:
        data = await request.read()
        q = request.query
        file_id = self.add_file(
            data,
            file_unique_id=q.get("file_unique_id"),
            file_path=q.get("file_path"),
            file_size=int(q["file_size"]) if "file_size" in q else None,
        )
        return web.json_response({"file_id": file_id})

    async def _ctl_push(self, request: web.Request) -> web.Response:
        return web.json_response(self.push(await request.json()))

    async def _ctl_make_update(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        kwargs = await request.json() if request.can_read_body else {}
        try:
            update = self.make_update(kind, **kwargs)
        except (TypeError, ValueError, KeyError) as exc:
            return web.json_response({"ok": False, "error": repr(exc)}, status=400)
        return web.json_response(self.push(update))

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        return web.json_response([c.to_json() for c in self.calls(method)])

    async def _ctl_sent_messages(self, request: web.Request) -> web.Response:
        return web.json_response(self.sent_messages(self._chat_query(request)))

    async def _ctl_messages(self, request: web.Request) -> web.Response:
        chat_id = self._chat_query(request)
        if chat_id is None:
            return web.json_response({"error": "chat_id required"}, status=400)
        return web.json_response(self.messages(chat_id))

    async def _ctl_edits(self, request: web.Request) -> web.Response:
        return web.json_response(self.edits(self._chat_query(request)))

    async def _ctl_callback_answers(self, request: web.Request) -> web.Response:
        return web.json_response(self.callback_answers())

    async def _ctl_chat_actions(self, request: web.Request) -> web.Response:
        return web.json_response(self.chat_actions(self._chat_query(request)))

    async def _ctl_webhook(self, request: web.Request) -> web.Response:
        info = await self._api_getWebhookInfo({})
        info["secret_token"] = self.webhook["secret_token"]
        info["deliveries"] = [d.to_json() for d in self.deliveries]
        return web.json_response(info)

    async def _ctl_webhook_post(self, request: web.Request) -> web.Response:
        body = await request.json()
        statuses = await self.post_to_webhook(body["update"], int(body.get("times", 1)))
        return web.json_response({"statuses": statuses})

    async def _ctl_fail(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.fail_next(
            body["method"],
            int(body.get("status", 429)),
            retry_after=body.get("retry_after"),
            count=int(body.get("count", 1)),
            description=body.get("description"),
        )
        return web.json_response({"ok": True})

    async def _ctl_delay(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.delay_next(body["method"], float(body["seconds"]), count=int(body.get("count", 1)))
        return web.json_response({"ok": True})

    async def _ctl_fail_downloads(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        self.fail_file_downloads(int(body.get("count", 1)), int(body.get("status", 500)))
        return web.json_response({"ok": True})

    async def _ctl_block(self, request: web.Request) -> web.Response:
        self.block(int((await request.json())["chat_id"]))
        return web.json_response({"ok": True})

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})


# ---------------------------------------------------------------------- other processes


class RemoteFakeTelegram:
    """Drives a fake running in another process through its ``/_fake`` control routes."""

    def __init__(self, url: str, token: str = DEFAULT_TOKEN) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    def bot_kwargs(self) -> BotUrls:
        return {"base_url": f"{self.url}/bot", "base_file_url": f"{self.url}/file/bot"}

    async def __aenter__(self) -> RemoteFakeTelegram:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._session is not None, "use `async with RemoteFakeTelegram(url)`"
        async with self._session.request(method, f"{self.url}/_fake/{path}", **kwargs) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def add_file(self, data: bytes, **query: Any) -> str:
        params = {k: str(v) for k, v in query.items() if v is not None}
        return str((await self._request("POST", "files", data=data, params=params))["file_id"])

    async def push(self, update: JSONDict) -> JSONDict:
        return dict(await self._request("POST", "push", json=update))

    async def make(self, kind: str, **kwargs: Any) -> JSONDict:
        """Build an update of ``kind`` (text, photo, document, callback, sticker, ...) in the
        fake and push it; returns the update."""
        return dict(await self._request("POST", f"updates/{kind}", json=kwargs))

    async def calls(self, method: str | None = None) -> list[JSONDict]:
        return list(
            await self._request("GET", "calls", params={"method": method} if method else {})
        )

    async def _by_chat(self, path: str, chat_id: int | None) -> list[Any]:
        params = {"chat_id": str(chat_id)} if chat_id is not None else {}
        return list(await self._request("GET", path, params=params))

    async def sent_messages(self, chat_id: int | None = None) -> list[JSONDict]:
        return await self._by_chat("sent_messages", chat_id)

    async def messages(self, chat_id: int) -> list[JSONDict]:
        return await self._by_chat("messages", chat_id)

    async def edits(self, chat_id: int | None = None) -> list[JSONDict]:
        return await self._by_chat("edits", chat_id)

    async def chat_actions(self, chat_id: int | None = None) -> list[str]:
        return await self._by_chat("chat_actions", chat_id)

    async def callback_answers(self) -> list[JSONDict]:
        return list(await self._request("GET", "callback_answers"))

    async def webhook(self) -> JSONDict:
        return dict(await self._request("GET", "webhook"))

    async def fail_next(
        self, method: str, status: int = 429, *, retry_after: int | None = None, count: int = 1
    ) -> None:
        await self._request(
            "POST",
            "fail",
            json={"method": method, "status": status, "retry_after": retry_after, "count": count},
        )

    async def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        await self._request(
            "POST", "delay", json={"method": method, "seconds": seconds, "count": count}
        )

    async def fail_file_downloads(self, count: int = 1, status: int = 500) -> None:
        await self._request("POST", "fail_file_downloads", json={"count": count, "status": status})

    async def block(self, chat_id: int) -> None:
        await self._request("POST", "block", json={"chat_id": chat_id})

    async def post_to_webhook(self, update: JSONDict, times: int = 1) -> list[int | None]:
        body = await self._request("POST", "webhook/post", json={"update": update, "times": times})
        return list(body["statuses"])

    async def reset(self) -> None:
        await self._request("POST", "reset")

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 10.0,  # noqa: ASYNC109
        interval: float = 0.05,
    ) -> Any:
        """Poll ``predicate()`` (sync or async, typically awaiting this client) until truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met in {timeout}s")
            await asyncio.sleep(interval)


@contextlib.contextmanager
def run_fake_telegram_process(
    token: str = DEFAULT_TOKEN,
    *,
    port: int = 0,
    startup_timeout: float = 15.0,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run the fake in a child process; yields its base URL (use as TELEGRAM_API_URL)."""
    with tempfile.TemporaryDirectory(prefix="fake-telegram-") as tmp:
        ready = os.path.join(tmp, "ready.json")
        process = subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--port",
                str(port),
                "--token",
                token,
                "--ready-file",
                ready,
                *extra_args,
            ],
        )
        try:
            deadline = time.monotonic() + startup_timeout
            while not os.path.exists(ready):
                if process.poll() is not None:
                    raise RuntimeError(f"fake telegram exited with {process.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError("fake telegram did not start")
                time.sleep(0.05)
            with open(ready, encoding="utf-8") as fh:
                yield str(json.load(fh)["url"])
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _write_ready_file(path: str, fake: FakeTelegram) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"url": fake.url, "port": fake.port, "pid": os.getpid()}, fh)
    os.replace(tmp, path)


async def _serve_forever(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        args.token, host=args.host, port=args.port, webhook_retry_delay=args.webhook_retry_delay
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(f"FAKE_TELEGRAM_URL={fake.url}", flush=True)
        if args.ready_file:
            _write_ready_file(args.ready_file, fake)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server for tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=os.environ.get("FAKE_TELEGRAM_TOKEN", DEFAULT_TOKEN))
    parser.add_argument("--ready-file", help="write {url, port, pid} as JSON here once listening")
    parser.add_argument("--webhook-retry-delay", type=float, default=0.2)
    asyncio.run(_serve_forever(parser.parse_args(argv)))


@contextlib.asynccontextmanager
async def fake_telegram(token: str = DEFAULT_TOKEN, **kwargs: Any) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token, **kwargs) as fake:
        yield fake


if __name__ == "__main__":
    main()
