"""More of the conversation end to end: French over a webhook, cancelling, a restart in the
middle of a review, duplicates, forged buttons, groups, multi-page recipes, limits."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp
import pytest
from tests.bot.conftest import WEBHOOK_SECRET, BotProcess, Chat, render, review_photo
from tests.bot.test_e2e_review import lines_of
from tests.fakes.telegram import FakeTelegram

from just_ingredients import service
from just_ingredients.domain import Ingredient
from just_ingredients.storage import Database

FRENCH_LINES = ["250 g de farine", "3 œufs", "0,15 l de lait", "1 pincée de sel"]

pytestmark = pytest.mark.slow  # a real bot process each (a few seconds)


async def test_french_review_over_the_webhook_asks_a_name_at_save_time(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot("webhook")
    await bot.start()
    assert fake.webhook["url"].endswith("/telegram")
    assert fake.webhook["secret_token"] == WEBHOOK_SECRET
    commands = {c.params.get("language_code"): c.params for c in fake.calls("setMyCommands")}
    assert set(commands) == {None, "fr"}  # registered in both languages
    assert len(commands["fr"]["commands"]) == 7

    marie = Chat(fake, 601, lang="fr-FR")
    await marie.photo(render(FRENCH_LINES))  # no caption: no name yet
    await marie.wait_text("Lecture de votre photo")
    review = await marie.wait_text("Recette sans nom", "4 ingrédients")
    assert "0,15 " in review["text"]  # French decimal comma
    n = marie.count()
    await marie.press(review, "✅ Enregistrer")
    await marie.wait_text("Quel nom donner", after=n)
    n = marie.count()
    await marie.send("Crêpes de Marie")
    saved = await marie.wait_text("« Crêpes de Marie » enregistrée avec 4 ingrédients", after=n)
    assert "📚 Mes recettes" in Chat.buttons(saved)

    n = marie.count()
    await marie.send(f"/search@{fake.bot_username} farine")  # @botname and an argument
    await marie.wait_text("Recettes correspondant à « farine » (1)", after=n)
    n = marie.count()
    await marie.send("/export md")
    exported = await marie.wait_text("Votre recette", after=n)
    assert exported["document"]["file_name"] == "recipes.md"
    data = fake.file(exported["document"]["file_id"]).data.decode()
    assert "## Crêpes de Marie" in data
    n = marie.count()
    await marie.send("/export CSV")
    exported = await marie.wait_text("Votre recette", after=n)
    assert exported["document"]["file_name"] == "recipes.csv"
    rows = fake.file(exported["document"]["file_id"]).data.decode().splitlines()
    assert len(rows) == 5  # a header, then one row per ingredient
    assert "Crêpes de Marie" in rows[1]
    assert "farine" in rows[1]
    n = marie.count()
    await marie.send("/export pdf")
    await marie.wait_text("/export csv (tableur)", after=n)

    # /language switches to English whatever the Telegram client says
    n = marie.count()
    await marie.send("/language")
    prompt = await marie.wait_text("Choisissez votre langue", after=n)
    await marie.press(prompt, "English")
    await fake.wait_for(lambda: "English" in marie.message(prompt["message_id"])["text"])
    n = marie.count()
    await marie.send("/recipes")
    await marie.wait_text("Your recipes (1–1 of 1)", after=n)

    # the webhook refuses a request without the right secret
    url = fake.webhook["url"]
    update = json.dumps({"update_id": 1, "message": {}})
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with session.post(url, data=update, headers=headers) as response:
                assert response.status == 403
        # with the secret, an update the bot cannot read is dropped (200), not retried forever
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with session.post(url, data=update, headers=headers) as response:
            assert response.status == 200
    assert await bot.health() == 200
    # shutting down never deletes the webhook (the next instance keeps receiving updates)
    assert await bot.stop() == 0
    assert not fake.calls("deleteWebhook")
    assert fake.webhook["url"] == url


async def test_cancel_paths_and_stale_buttons(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot().start()
    alice = Chat(fake, 701)
    n = alice.count()
    await alice.send("/cancel")
    await alice.wait_text("nothing to cancel", after=n)

    await alice.photo(review_photo())
    review = await alice.wait_text("Untitled recipe", "200 g flour")
    await alice.wait_answer(await alice.press(review, "✖️ Cancel"))
    await fake.wait_for(lambda: "cancelled" in alice.message(review["message_id"])["text"])
    assert not Chat.buttons(alice.message(review["message_id"]))
    # a button of the finished review only answers a notice
    before = await alice.press_data(review, Chat.buttons(review)["✅ Save"])
    answer = await alice.wait_answer(before)
    assert answer["text"] == "This button is no longer valid."

    # /cancel while the bot waits for a line stops waiting; a second /cancel ends the review
    await alice.photo(review_photo())
    review = await alice.wait_text("Untitled recipe", "200 g flour", after=alice.count() - 1)
    n = alice.count()
    await alice.press(review, "🏷 Rename")
    await alice.wait_text("Send a name for this recipe", after=n)
    n = alice.count()
    await alice.send("x" * 300)  # over 255 characters
    await alice.wait_text("1 to 255 characters", after=n)
    n = alice.count()
    await alice.send("Soup")
    review = await alice.wait_text("Soup", "200 g flour", after=n)
    n = alice.count()
    await alice.press(review, "➕ Add a line")
    await alice.wait_text("Send the ingredient line", after=n)
    n = alice.count()
    await alice.send("/cancel")
    await alice.wait_text("no longer waiting", after=n)
    n = alice.count()
    await alice.send("2 eggs")  # not taken as a line any more
    await alice.wait_text("Use the buttons", after=n)
    n = alice.count()
    await alice.send("/cancel")
    await alice.wait_text("Review cancelled", after=n)


async def test_restart_mid_review_every_button_and_question_still_works(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    alice = Chat(fake, 801)
    await alice.photo(review_photo(), caption="Before the crash")
    review = await alice.wait_text("Before the crash", "200 g flour")
    total = len(lines_of(review["text"]))

    bot.kill()  # kill -9 in the middle of the review
    await bot.start()
    await alice.press(review, "🗑 1")
    review = await fake.wait_for(
        lambda: (
            len(lines_of(alice.message(review["message_id"])["text"])) == total - 1
            and alice.message(review["message_id"])
        )
    )
    n = alice.count()
    await alice.press(review, "➕ Add a line")
    await alice.wait_text("Send the ingredient line", after=n)

    bot.kill()  # the bot is waiting for a line: that question is in the database too
    await bot.start()
    n = alice.count()
    await alice.send("100 g sugar")
    review = await alice.wait_text("100 g sugar", "Before the crash", after=n)
    await alice.press(review, "✅ Save")
    await fake.wait_for(lambda: "Saved" in alice.message(review["message_id"])["text"])


async def test_duplicate_updates_and_forged_buttons_do_nothing(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot().start()
    alice, bob = Chat(fake, 901), Chat(fake, 902)
    update = fake.make_text_update(901, "/help")
    fake.push(update)
    fake.push(update)  # Telegram delivers the same update again
    await alice.wait_text("/recipes")
    n = alice.count()
    await alice.send("/start")
    await alice.wait_text("Hello", after=n)
    assert sum("/recipes —" in (m.get("text") or "") for m in alice.bot_messages()) == 1

    await alice.photo(review_photo(), caption="Alice's secret")
    review = await alice.wait_text("Alice's secret", "200 g flour")
    before = await alice.press(review, "🗑 1", user_id=bob.user_id)  # Bob forges the press
    assert (await alice.wait_answer(before))["text"] == "This button is no longer valid."
    before = await alice.press_data(review, "AAAAAAAAAAAA:x1")  # a made-up key
    assert (await alice.wait_answer(before))["text"] == "This button is no longer valid."
    before = await alice.press_data(review, "no-separator")
    assert (await alice.wait_answer(before))["text"] == "This button is no longer valid."
    assert alice.message(review["message_id"])["text"] == review["text"]  # untouched


async def test_second_photo_adds_to_the_same_draft(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot().start()
    alice = Chat(fake, 1001)
    await alice.photo(render(["200 g flour", "3 eggs"]), caption="Two pages")
    await alice.wait_text("Two pages", "2 ingredients")
    n = alice.count()
    await alice.photo(render(["250 ml milk", "Cups water"]))
    review = await alice.wait_text("Added 2 ingredients", "4 ingredients", after=n)
    assert "milk" in review["text"]
    assert "flour" in review["text"]
    # the doubtful line of the second page comes with its crop of the second photo
    assert "4. ⚠️ Cups water" in review["text"]
    n = alice.count()
    downloads = len(fake.calls("downloadFile"))
    await alice.press(review, "✏️ 4")
    prompt = await alice.wait_text("Send the corrected line 4", after=n)
    assert "photo" in prompt
    assert len(fake.calls("downloadFile")) == downloads + 2  # both pages looked at again
    n = alice.count()
    await alice.send("50 g butter")
    review = await alice.wait_text("Line 4 updated", after=n)
    await alice.press(review, "✅ Save")
    saved = await fake.wait_for(
        lambda: (
            "Saved" in alice.message(review["message_id"])["text"]
            and alice.message(review["message_id"])
        )
    )
    assert "with 4 ingredients" in saved["text"]


async def test_groups_answer_only_when_addressed(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot().start()
    group = -5005
    name = fake.bot_username

    def texts() -> list[str]:
        return [m.get("text") or "" for m in fake.sent_messages(group)]

    for text in ("hello everyone", "/help"):
        fake.push(fake.make_text_update(1101, text, group, chat_type="group"))
    fake.push(fake.make_text_update(1101, f"/help@{name}", group, chat_type="group"))
    await fake.wait_for(lambda: any("/recipes" in t for t in texts()))
    mention = f"@{name} hi"
    entities = [{"type": "mention", "offset": 0, "length": len(name) + 1}]
    fake.push(fake.make_text_update(1101, mention, group, chat_type="group", entities=entities))
    await fake.wait_for(lambda: any("Send me a photo" in t for t in texts()))
    assert len(texts()) == 2  # "hello everyone" and the bare "/help" were not for us

    # a photo sent as a reply to the bot is for the bot; its questions ask for a reply
    help_message = fake.sent_messages(group)[0]
    photo = fake.make_photo_update(1101, fake.add_file(review_photo()), chat_id=group,
                                   chat_type="group")  # fmt: skip
    photo["message"]["reply_to_message"] = help_message
    fake.push(photo)
    review = await fake.wait_for(
        lambda: [m for m in fake.messages(group) if "200 g flour" in (m.get("text") or "")]
    )
    review = review[0]
    data = Chat.buttons(review)["➕ Add a line"]
    fake.push(fake.make_callback_update(1101, data, review["message_id"], group))
    question = await fake.wait_for(
        lambda: [m for m in fake.sent_messages(group) if "Send the ingredient" in m["text"]]
    )
    asked = [c for c in fake.calls("sendMessage") if "Send the ingredient" in c.params["text"]]
    assert asked[0].params["reply_markup"]["force_reply"] is True
    answer = fake.make_text_update(1101, "100 g sugar", group, chat_type="group",
                                   reply_to_message_id=question[0]["message_id"])  # fmt: skip
    fake.push(answer)
    await fake.wait_for(lambda: any("100 g sugar" in t for t in texts()))


async def test_too_big_files_are_refused_before_download(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot(MAX_IMAGE_BYTES="5000000").start()
    alice = Chat(fake, 1201)
    file_id = fake.add_file(review_photo(), file_size=30_000_000)
    fake.push(fake.make_photo_update(1201, [file_id]))
    await alice.wait_text("too big (the limit is 5 MB)")
    assert not [c for c in fake.calls("getFile") if c.params.get("file_id") == file_id]


async def test_recipes_pages_and_editing_a_saved_recipe(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess], sqlite_file_url: str
) -> None:
    database = Database.from_url(sqlite_file_url)
    try:
        await database.prepare()
        for n in range(1, 8):
            await service.save_recipe(
                database, 1601, f"Recipe {n}", [Ingredient(raw="2 eggs", name="eggs", quantity=2)]
            )
        await service.save_recipe(database, 1602, "Not yours", [Ingredient(raw="x", name="x")])
    finally:
        await database.dispose()
    await make_bot().start()
    alice = Chat(fake, 1601)
    await alice.send("/recipes")
    listing = await alice.wait_text("Your recipes (1–5 of 7)")
    assert "Not yours" not in listing["text"]
    await alice.press(listing, "▶️")
    await fake.wait_for(lambda: "(6–7 of 7)" in alice.message(listing["message_id"])["text"])
    listing = alice.message(listing["message_id"])
    await alice.press(listing, "◀️")
    await fake.wait_for(lambda: "(1–5 of 7)" in alice.message(listing["message_id"])["text"])
    listing = alice.message(listing["message_id"])

    first = next(label for label in Chat.buttons(listing) if label.startswith("Recipe"))
    await alice.press(listing, first)
    details = await fake.wait_for(
        lambda: (
            "1 ingredient" in alice.message(listing["message_id"])["text"]
            and alice.message(listing["message_id"])
        )
    )
    n = alice.count()
    await alice.press(details, "✏️ Edit ingredients")
    review = await alice.wait_text(first, "1. 2 eggs", after=n)
    n = alice.count()
    await alice.press(review, "➕ Add a line")
    await alice.wait_text("Send the ingredient line", after=n)
    n = alice.count()
    await alice.send("100 g sugar\n1 pinch of salt")  # several lines at once
    review = await alice.wait_text("3 ingredients", "sugar", after=n)
    await alice.press(review, "✅ Save")
    await fake.wait_for(lambda: "updated" in alice.message(review["message_id"])["text"])
    await alice.press(details, "⬅️ Back")  # still works: goes back to the list
    await fake.wait_for(lambda: "Your recipes" in alice.message(details["message_id"])["text"])
    n = alice.count()
    await alice.send("/search sugar")
    found = await alice.wait_text("Recipes matching “sugar” (1)", after=n)
    assert first in Chat.buttons(found)


async def test_concurrent_duplicate_webhook_deliveries_are_handled_once(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    await make_bot("webhook").start()
    update = fake.make_text_update(1701, "/help")
    statuses = await fake.post_to_webhook(update, times=3)
    assert statuses == [200, 200, 200]
    alice = Chat(fake, 1701)
    await alice.wait_text("/recipes")
    n = alice.count()
    await alice.send("/start")  # a later update: by then the duplicates are long done
    await alice.wait_text("Hello", after=n)
    assert alice.count() == 2
