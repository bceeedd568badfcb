"""The review conversation end to end: real bot process, fake Telegram, real Tesseract."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.bot.conftest import BotProcess, Chat, review_photo
from tests.fakes.telegram import FakeTelegram

from just_ingredients.storage import Database

pytestmark = pytest.mark.slow  # a real bot process each (a few seconds)


def lines_of(text: str, *, doubtful: bool = False) -> dict[int, str]:
    """The numbered lines of a review: {n: "n. …"} (only the ⚠️ ones with doubtful=True)."""
    found = {}
    for line in text.splitlines():
        head, _, rest = line.partition(". ")
        if head.isdigit() and rest and (not doubtful or rest.startswith("⚠️")):
            found[int(head)] = line
    return found


async def test_photo_review_edit_delete_add_save_then_manage_the_recipe(
    fake: FakeTelegram, make_bot: Callable[..., BotProcess]
) -> None:
    bot = make_bot()
    await bot.start()
    alice = Chat(fake, 501)

    await alice.photo(review_photo(), caption="  Sunday pancakes  ")
    status = await alice.wait_text("Reading your photo")
    review = await alice.wait_text("Sunday pancakes", "200 g flour")
    assert review["message_id"] == status["message_id"]  # edited in place
    assert fake.chat_actions(501)
    labels = Chat.buttons(review)
    assert {"✏️ 1", "🗑 1", "➕ Add a line", "🏷 Rename", "✅ Save", "✖️ Cancel"} <= set(labels)
    assert all(len(d.encode()) <= 64 for d in labels.values())

    # edit a doubtful line: the bot sends the crop of that line from the photo with the prompt
    doubtful = lines_of(review["text"], doubtful=True)
    assert doubtful, review["text"]
    n_line = min(doubtful)
    n = alice.count()
    await alice.press(review, f"✏️ {n_line}")
    prompt = await alice.wait_text(f"Send the corrected line {n_line}", after=n)
    assert "photo" in prompt  # the crop
    assert fake.calls("getFile")  # downloaded again by file_id, not kept
    n = alice.count()
    await alice.send("2 cups water")
    review = await alice.wait_text(f"Line {n_line} updated", "2 cups water", after=n)
    assert "⚠️" not in review["text"].split("2 cups water")[0].splitlines()[-1]

    # delete the line "1 egg": the review is edited in place
    egg = next(k for k, text in lines_of(review["text"]).items() if text.endswith(" 1 egg"))
    total = len(lines_of(review["text"]))
    await alice.press(review, f"🗑 {egg}")
    review = await fake.wait_for(
        lambda: (
            len(lines_of(alice.message(review["message_id"])["text"])) == total - 1
            and alice.message(review["message_id"])
        )
    )
    assert " 1 egg\n" not in review["text"]

    # add a line: text that is no ingredient is refused with the reason, then accepted
    n = alice.count()
    await alice.press(review, "➕ Add a line")
    await alice.wait_text("Send the ingredient line", after=n)
    n = alice.count()
    await alice.send("200 g")
    await alice.wait_text("no ingredient name", after=n)
    n = alice.count()
    await alice.send("1 pinch of nutmeg")
    review = await alice.wait_text("nutmeg", "Sunday pancakes", after=n)

    before = alice.count()
    await alice.press(review, "✅ Save")
    saved = await fake.wait_for(
        lambda: (
            "Saved" in alice.message(review["message_id"])["text"]
            and alice.message(review["message_id"])
        )
    )
    assert "“Sunday pancakes”" in saved["text"]
    assert set(Chat.buttons(saved)) == {"📷 Send another", "📚 My recipes", "🔎 Search"}
    assert alice.count() == before

    # my recipes → details → rename → delete with confirmation
    await alice.press(saved, "📚 My recipes")
    listing = await alice.wait_text("Your recipes (1–1 of 1)", after=before)
    await alice.press(listing, "Sunday pancakes")
    details = await fake.wait_for(
        lambda: (
            "nutmeg" in alice.message(listing["message_id"])["text"]
            and alice.message(listing["message_id"])
        )
    )
    n = alice.count()
    await alice.press(details, "🏷 Rename")
    await alice.wait_text("Send the new name", after=n)
    n = alice.count()
    await alice.send("Fluffy <b>pancakes</b> & co")
    details = await alice.wait_text("Renamed to", after=n)
    assert "Fluffy <b>pancakes</b> & co" in details["text"]  # escaped, shown as typed
    await alice.press(details, "🗑 Delete")
    confirm = await fake.wait_for(
        lambda: (
            "can't be undone" in alice.message(details["message_id"])["text"]
            and alice.message(details["message_id"])
        )
    )
    await alice.press(confirm, "Yes, delete")
    await fake.wait_for(lambda: "Deleted" in alice.message(details["message_id"])["text"])
    n = alice.count()
    await alice.send("/recipes")
    await alice.wait_text("no saved recipes", after=n)


@pytest.mark.postgres
async def test_the_same_flow_on_postgresql_and_a_schema_behind_head_is_refused(
    fake: FakeTelegram,
    make_bot: Callable[..., BotProcess],
    make_pg_database: Callable[[], str],
) -> None:
    empty = make_pg_database()
    refused = make_bot(database_url=empty)
    with pytest.raises(RuntimeError, match="just-ingredients migrate"):
        await refused.start()  # PostgreSQL never migrates itself: the bot refuses to start

    url = make_pg_database()
    database = Database.from_url(url)
    try:
        await database.migrate()
    finally:
        await database.dispose()
    await make_bot(database_url=url).start()
    paul = Chat(fake, 551, lang="fr")
    await paul.photo(review_photo(), caption="Sur PostgreSQL")
    review = await paul.wait_text("Sur PostgreSQL", "5 ingrédients")
    await paul.press(review, "🗑 1")
    await fake.wait_for(lambda: "4 ingrédients" in paul.message(review["message_id"])["text"])
    await paul.press(paul.message(review["message_id"]), "✅ Enregistrer")
    await fake.wait_for(lambda: "enregistrée" in paul.message(review["message_id"])["text"])
    n = paul.count()
    await paul.send("/search salt")
    await paul.wait_text("Sur PostgreSQL", after=n)
