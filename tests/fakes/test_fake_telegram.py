"""The fake Bot API server, driven by python-telegram-bot's real ``telegram.Bot``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter
from tests.fakes.telegram import (
    DEFAULT_TOKEN,
    FakeTelegram,
    RemoteFakeTelegram,
    run_fake_telegram_process,
)

USER = 4242
#: PTB warns about RetryAfter.retry_after becoming a timedelta in v23; not our concern here
ignore_retry_after_deprecation = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(webhook_retry_delay=0.05) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, **fake.bot_kwargs()) as real_bot:
        yield real_bot


async def test_get_me_answers_the_bot_user(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == int(DEFAULT_TOKEN.split(":")[0])
    assert me.username == "just_ingredients_test_bot"


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999999:WrongTokenWrongTokenWrongTokenWrong", **fake.bot_kwargs()):
            pass
    assert fake.calls("getMe")[-1].status == 401


async def test_send_and_edit_message_with_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="d:1:ok")]])
    sent = await bot.send_message(USER, "<b>Reading</b> your photo…", parse_mode="HTML")
    assert sent.message_id == 1
    assert sent.text == "Reading your photo…"  # Telegram stores text without markup
    second = await bot.send_message(USER, "next")
    assert second.message_id == 2

    edited = await bot.edit_message_text("Done", USER, sent.message_id, reply_markup=keyboard)
    assert isinstance(edited, type(sent))
    assert edited.text == "Done"
    stored = fake.message(USER, 1)
    assert stored is not None
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == ("d:1:ok")
    assert [m["text"] for m in fake.sent_messages(USER)] == ["Reading your photo…", "next"]
    assert fake.edits(USER)[0]["text"] == "Done"
    assert fake.edits(USER)[0]["reply_markup"]["inline_keyboard"][0][0]["text"] == "OK"

    await bot.edit_message_reply_markup(USER, 1, reply_markup=None)
    assert "reply_markup" not in (fake.message(USER, 1) or {"reply_markup": "missing"})
    assert await bot.delete_message(USER, 2)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, 2)


async def test_unmodified_edit_and_unknown_message_are_bad_requests(bot: Bot) -> None:
    sent = await bot.send_message(USER, "same")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("same", USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("other", USER, 999)


async def test_telegram_limits_are_enforced(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "1 <g> flour", parse_mode="HTML")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "hi", reply_markup=too_long)


async def test_get_file_and_download_round_trip(fake: FakeTelegram, bot: Bot) -> None:
    data = bytes(range(256)) * 10
    file_id = fake.add_file(data, file_unique_id="uniq-1")
    tg_file = await bot.get_file(file_id)
    assert tg_file.file_size == len(data)
    assert tg_file.file_unique_id == "uniq-1"
    assert bytes(await tg_file.download_as_bytearray()) == data
    out = io.BytesIO()
    await tg_file.download_to_memory(out)
    assert out.getvalue() == data

    fake.fail_file_downloads(count=1)
    with pytest.raises(NetworkError):
        await tg_file.download_as_bytearray()

    huge = fake.add_file(b"tiny", file_size=21 * 1024 * 1024)
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(huge)


async def test_photo_update_has_sizes_and_largest_downloads(fake: FakeTelegram, bot: Bot) -> None:
    from PIL import Image

    image = io.BytesIO()
    Image.new("RGB", (1600, 1200), "white").save(image, format="PNG")
    file_id = fake.add_file(image.getvalue())
    assert fake.file(file_id).width == 1600
    update = fake.make_photo_update(USER, file_id, caption="Crêpes")
    sizes = update["message"]["photo"]
    assert len(sizes) == 4
    assert [s["width"] for s in sizes] == sorted(s["width"] for s in sizes)
    assert sizes[-1]["file_id"] == file_id
    assert update["message"]["caption"] == "Crêpes"
    fake.push(update)
    [received] = await bot.get_updates(timeout=1)
    assert received.message is not None
    largest = received.message.photo[-1]
    downloaded = await (await largest.get_file()).download_as_bytearray()
    assert bytes(downloaded) == image.getvalue()
    smallest = await (await received.message.photo[0].get_file()).download_as_bytearray()
    with Image.open(io.BytesIO(bytes(smallest))) as thumb:
        assert thumb.size == (90, 68)


async def test_upload_photo_and_document(fake: FakeTelegram, bot: Bot) -> None:
    photo = await bot.send_photo(USER, photo=b"\x89PNGfake", caption="pic")
    assert photo.photo
    assert photo.caption == "pic"
    doc = await bot.send_document(USER, document=b"a,b\n1,2\n", filename="recipes.csv")
    assert doc.document is not None
    assert doc.document.file_name == "recipes.csv"
    assert fake.calls("sendDocument")[-1].files["document"].data == b"a,b\n1,2\n"
    assert len(fake.sent_messages(USER)) == 2


async def test_long_poll_delivers_pushed_updates_and_honours_offset(
    fake: FakeTelegram, bot: Bot
) -> None:
    assert await bot.get_updates(timeout=0) == ()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    first = fake.push(fake.make_text_update(USER, "/start", language_code="fr"))
    updates = await asyncio.wait_for(poll, 3)
    assert [u.update_id for u in updates] == [first["update_id"]]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start"
    assert message.from_user is not None
    assert message.from_user.language_code == "fr"
    assert message.entities[0].type == "bot_command"

    # not confirmed: delivered again; confirmed with offset: gone
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [first["update_id"]]
    second = fake.push(fake.make_text_update(USER, "hello"))
    after = await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
    assert [u.update_id for u in after] == [second["update_id"]]
    # a duplicate delivery of an already confirmed update comes back
    fake.push(first)
    dup = await bot.get_updates(offset=second["update_id"] + 1, timeout=0)
    assert [u.update_id for u in dup] == [first["update_id"]]


async def test_second_poller_terminates_the_first(bot: Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(fake.token, **fake.bot_kwargs()) as other:
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Conflict):
            await asyncio.wait_for(first, 3)
        assert await second == ()


async def test_update_kinds_parse_in_ptb(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "review")
    kinds = [
        "sticker",
        "voice",
        "video",
        "location",
        "contact",
        "poll",
        "edited_message",
        "channel_post",
        "group_text",
        "my_chat_member",
        "dice",
    ]
    for kind in kinds:
        fake.push(fake.make_update(kind, user_id=USER))
    fake.push(fake.make_callback_update(USER, "d:1:del:2", sent.message_id))
    file_id = fake.add_file(b"%PDF-1.4")
    fake.push(
        fake.make_document_update(USER, file_id, mime_type="application/pdf", file_name="r.pdf")
    )
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == len(kinds) + 2
    by_kind = dict(zip(kinds, updates, strict=False))
    assert by_kind["sticker"].message.sticker is not None  # type: ignore[union-attr]
    assert by_kind["edited_message"].edited_message is not None
    assert by_kind["channel_post"].channel_post is not None
    assert by_kind["group_text"].effective_chat.type == "group"  # type: ignore[union-attr]
    assert by_kind["my_chat_member"].my_chat_member is not None
    callback = updates[-2].callback_query
    assert callback is not None
    assert callback.data == "d:1:del:2"
    assert callback.message is not None
    assert callback.message.message_id == sent.message_id
    assert await callback.answer("deleted")
    assert fake.callback_answers()[0]["text"] == "deleted"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await callback.answer()
    document = updates[-1].message.document  # type: ignore[union-attr]
    assert document is not None
    assert document.mime_type == "application/pdf"


async def test_chat_action_and_commands_per_language(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.send_chat_action(USER, "typing")
    assert fake.chat_actions(USER) == ["typing"]
    assert await bot.set_my_commands([("start", "Start"), ("help", "Help")])
    assert await bot.set_my_commands([("start", "Démarrer")], language_code="fr")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    fr = await bot.get_my_commands(language_code="fr")
    assert [c.description for c in fr] == ["Démarrer"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Bad-Command", "x")])


async def test_webhook_delivery_with_secret_and_error_reporting(
    fake: FakeTelegram, bot: Bot
) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    statuses = [500, 200, 200]

    async def receiver(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", receiver)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cr3t-Token_x")
        update = fake.push(fake.make_text_update(USER, "hi"))
        await fake.wait_for(lambda: len(received) >= 2)
        assert all(secret == "s3cr3t-Token_x" for secret, _ in received)
        assert received[1][1]["update_id"] == update["update_id"]
        info = await bot.get_webhook_info()
        assert info.url == url
        assert info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.last_error_date is not None
        with pytest.raises(Conflict):
            await bot.get_updates()

        fake.push(update)  # duplicate delivery
        await fake.wait_for(lambda: len(received) >= 3)
        assert received[2][1]["update_id"] == update["update_id"]
    finally:
        await runner.cleanup()

    fake.push(fake.make_text_update(USER, "nobody listens"))
    await fake.wait_for(lambda: fake.deliveries[-1].error == "Connection refused")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == ()


@ignore_retry_after_deprecation
async def test_429_surfaces_as_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "hi")
    assert "Retry in 7" in str(caught.value)
    assert (await bot.send_message(USER, "hi")).text == "hi"
    assert fake.calls("sendMessage")[0].faulted


async def test_server_errors_surface_as_network_errors(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 500)
    fake.fail_next("*", 502)
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        await bot.send_message(USER, "a")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "b")
    assert fake.sent_messages(USER) == []
    fake.delay_next("getMe", 0.2)
    started = asyncio.get_running_loop().time()
    await bot.get_me()
    assert asyncio.get_running_loop().time() - started >= 0.2


async def test_blocked_user_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    from telegram.error import Forbidden

    fake.block(USER)
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "hi")


async def test_wait_for_times_out_with_the_last_calls(fake: FakeTelegram, bot: Bot) -> None:
    await bot.get_me()
    with pytest.raises(TimeoutError, match=r"(?i)getMe"):
        await fake.wait_for(lambda: fake.sent_messages(USER), timeout=0.1)


@ignore_retry_after_deprecation
async def test_runs_as_a_subprocess_controlled_over_http() -> None:
    with run_fake_telegram_process() as url:
        async with (
            RemoteFakeTelegram(url) as remote,
            Bot(DEFAULT_TOKEN, **remote.bot_kwargs()) as bot,
        ):
            file_id = await remote.add_file(b"image-bytes")
            update = await remote.make("photo", user_id=USER, file_ids=file_id, caption="Soup")
            [received] = await bot.get_updates(timeout=2)
            assert received.update_id == update["update_id"]
            assert received.message is not None
            assert received.message.caption == "Soup"
            await bot.send_message(USER, "Reading your photo…")
            messages = await remote.wait_for(lambda: remote.sent_messages(USER))
            assert messages[0]["text"] == "Reading your photo…"
            await remote.fail_next("sendMessage", 429, retry_after=3)
            with pytest.raises(RetryAfter):
                await bot.send_message(USER, "x")
            calls = await remote.calls("sendMessage")
            assert [c["status"] for c in calls] == [200, 429]
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{url}/_fake/health") as resp,
            ):
                assert resp.status == 200


async def test_ptb_application_polls_and_replies(fake: FakeTelegram) -> None:
    from telegram import Update
    from telegram.ext import Application, CommandHandler, ContextTypes

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"hello {' '.join(context.args or [])}")

    app = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.api_base_url)
        .base_file_url(fake.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake.push(fake.make_text_update(USER, f"/start@{fake.bot_username} chef"))
        messages = await fake.wait_for(lambda: fake.sent_messages(USER))
        assert messages[0]["text"] == "hello chef"
        await app.updater.stop()
        await app.stop()
    assert fake.pending_updates() == []


async def test_json_and_query_string_requests(fake: FakeTelegram) -> None:
    api = f"{fake.api_base_url}{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/sendMessage", json={"chat_id": USER, "text": "  hi  "}) as r:
            body = await r.json()
        assert body["ok"] is True
        assert body["result"]["text"] == "hi"  # trimmed, as Telegram does
        async with http.get(f"{api}/getMe") as r:
            assert (await r.json())["result"]["is_bot"] is True
        async with http.get(f"{api}/sendChatAction?chat_id={USER}&action=typing") as r:
            assert (await r.json())["result"] is True
        async with http.post(f"{api}/noSuchMethod", json={}) as r:
            assert r.status == 404
            assert (await r.json())["error_code"] == 404
        async with http.post(f"{fake.api_base_url}1:bad/getMe") as r:
            assert r.status == 401
            assert await r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert fake.chat_actions(USER) == ["typing"]


async def test_concurrent_duplicate_webhook_posts(fake: FakeTelegram, bot: Bot) -> None:
    seen: list[int] = []

    async def receiver(request: web.Request) -> web.Response:
        seen.append((await request.json())["update_id"])
        await asyncio.sleep(0.05)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receiver)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
        update = fake.make_text_update(USER, "dup")
        assert await fake.post_to_webhook(update, times=3) == [200, 200, 200]
        assert seen == [update["update_id"]] * 3
    finally:
        await runner.cleanup()
