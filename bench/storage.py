"""Storage benchmark: search latency and save latency on PostgreSQL.

Creates a throwaway database (`ji_bench_<random>`, dropped at the end) on the server of
`BENCH_PG_URL` (default postgresql://postgres@127.0.0.1:5432/postgres), fills it with
10,000 recipes x 10 ingredients (one user with half of them, 50 users sharing the rest),
then times `service.search_recipes` over varied English/French queries and
`service.save_recipe`. Target: p95 search <= 20 ms.

    uv run python bench/storage.py [--recipes 10000] [--searches 400] [--saves 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, make_url, select

from just_ingredients import service
from just_ingredients.domain import Ingredient
from just_ingredients.storage import Database, upgrade
from just_ingredients.storage.search import body_text
from just_ingredients.storage.tables import IngredientRow, RecipeRow, UserRow

EN = ["flour", "sugar", "butter", "eggs", "milk", "salt", "pepper", "tomatoes", "onions",
      "garlic", "olive oil", "basil", "chicken breast", "rice", "carrots", "potatoes",
      "cream", "cheese", "lemon", "honey", "cinnamon", "vanilla", "yeast", "beef", "parsley",
      "mushrooms", "spinach", "bacon", "chocolate", "almonds"]  # fmt: skip
FR = ["farine", "sucre", "beurre", "œufs", "lait", "sel", "poivre", "tomates", "oignons",
      "ail", "huile d'olive", "basilic", "blanc de poulet", "riz", "carottes", "pommes de terre",
      "crème fraîche", "fromage", "citron", "miel", "cannelle", "vanille", "levure", "bœuf",
      "persil", "champignons", "épinards", "lardons", "chocolat", "amandes"]  # fmt: skip
DISHES = ["tarte", "soup", "gratin", "salad", "cake", "quiche", "stew", "crêpes", "risotto",
          "curry", "pie", "velouté", "bread", "clafoutis", "omelette"]  # fmt: skip
QUERIES = ["tomato", "tomates", "creme", "crème fraîche", "oeufs", "eggs milk", "garlic",
           "boeuf", "chocolate cake", "epinards", "quiche", "pommes de terre", "carrot soup",
           "basil", "honey lemon", "zzz nothing", "curry chicken", "persil ail", "cheese",
           "vanille"]  # fmt: skip

HEAVY_USER = 1
LIGHT_USERS = range(1000, 1050)


def _recipe_rows(n: int, rng: random.Random) -> list[tuple[int, str, str, list[tuple[str, str]]]]:
    out = []
    for i in range(n):
        owner = HEAVY_USER if i % 2 == 0 else LIGHT_USERS[i % len(LIGHT_USERS)]
        lang = "fr" if rng.random() < 0.5 else "en"
        words = FR if lang == "fr" else EN
        names = rng.sample(words, 10)
        title = f"{rng.choice(DISHES)} {names[0]} {i}"
        out.append((owner, title, lang, [(f"100 g {name}", name) for name in names]))
    return out


async def _fill(db: Database, n: int, rng: random.Random) -> None:
    data = _recipe_rows(n, rng)
    now = datetime.now(UTC)
    async with db.transaction() as repo:
        owners = {owner for owner, *_ in data}
        ids = {owner: await repo.ensure_user(owner) for owner in owners}
        session = repo.session
        for start in range(0, n, 1000):
            chunk = data[start : start + 1000]
            recipe_ids = (
                await session.scalars(
                    insert(RecipeRow).returning(RecipeRow.id),
                    [
                        {
                            "user_id": ids[o],
                            "name": t,
                            "lang": lang,
                            "created_at": now,
                            "updated_at": now,
                            "search_text": body_text(nm for _, nm in ings),
                        }
                        for o, t, lang, ings in chunk
                    ],
                )
            ).all()
            rows = [
                {"recipe_id": rid, "position": p, "quantity": 100.0, "unit": "g",
                 "unit_text": "g", "name": nm, "raw": raw, "confidence": 0.9}
                for rid, (_, _, _, ings) in zip(recipe_ids, chunk, strict=True)
                for p, (raw, nm) in enumerate(ings)
            ]  # fmt: skip
            await session.execute(insert(IngredientRow), rows)
        assert (await session.scalar(select(UserRow.id).limit(1))) is not None
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")


async def _timed(calls: list[Callable[[], Awaitable[object]]]) -> list[float]:
    times = []
    for call in calls:
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _row(table: Table, label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    table.add_row(label, str(len(times)), f"{statistics.median(times):.2f}", f"{p95:.2f}",
                  f"{ordered[-1]:.2f}")  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    admin = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"ji_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
    db = Database.from_url(url)
    console = Console()
    try:
        await upgrade(db.engine)
        start = time.perf_counter()
        await _fill(db, args.recipes, rng)
        console.print(f"filled {args.recipes} recipes x 10 ingredients in "
                      f"{time.perf_counter() - start:.1f}s ({name})")  # fmt: skip
        for q in QUERIES[:5]:  # warm up the pool and the caches
            await service.search_recipes(db, HEAVY_USER, q)

        def search(user: int, q: str) -> Callable[[], Awaitable[object]]:
            return lambda: service.search_recipes(db, user, q, limit=10)

        heavy = [search(HEAVY_USER, rng.choice(QUERIES)) for _ in range(args.searches)]
        light = [search(rng.choice(LIGHT_USERS), rng.choice(QUERIES)) for _ in range(args.searches)]
        heavy_t, light_t = await _timed(heavy), await _timed(light)
        ingredients = [Ingredient(raw=f"1 {n}", name=n, quantity=1.0) for n in FR[:10]]
        saves = [
            (lambda i=i: service.save_recipe(db, 5000 + i % 7, f"Bench {i}", ingredients, "fr"))
            for i in range(args.saves)
        ]
        save_t = await _timed(saves)
        page = await service.search_recipes(db, HEAVY_USER, "tomates")

        table = Table(title=f"storage bench: PostgreSQL, {args.recipes} recipes x 10 ingredients")
        for col in ("operation", "n", "median ms", "p95 ms", "max ms"):
            table.add_column(col, justify="left" if col == "operation" else "right")
        _row(table, f"search, 1 user with {args.recipes // 2} recipes", heavy_t)
        _row(table, f"search, {len(LIGHT_USERS)} users with ~{args.recipes // 100} each", light_t)
        _row(table, "search, all", heavy_t + light_t)
        _row(table, "save_recipe (10 ingredients)", save_t)
        console.print(table)
        console.print(f"'tomates' for the heavy user: {page.total} matches")
        p95_all = sorted(heavy_t + light_t)[int(0.95 * len(heavy_t + light_t))]
        verdict = "OK" if p95_all <= 20 else "over target"
        console.print(f"search p95 {p95_all:.2f} ms (target <= 20 ms): {verdict}")
    finally:
        await db.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", type=int, default=10_000)
    parser.add_argument("--searches", type=int, default=400)
    parser.add_argument("--saves", type=int, default=200)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
