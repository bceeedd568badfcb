"""Command line: `just-ingredients …` (DESIGN.md §3)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from just_ingredients.domain import Ingredient, Lang
from just_ingredients.presentation import format_quantity

if TYPE_CHECKING:
    from just_ingredients.storage import Database, Page, RecipeSummary

_T = TypeVar("_T")

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Photos of ingredient lists into structured, searchable recipes.",
)
out = Console()
err = Console(stderr=True)


class LangOption(StrEnum):
    auto = "auto"
    en = "en"
    fr = "fr"


def _lang(option: LangOption) -> Lang | None:
    if option is LangOption.en:
        return "en"
    if option is LangOption.fr:
        return "fr"
    return None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def ingredients_table(title: str | None, ingredients: Sequence[Ingredient], lang: Lang) -> Table:
    table = Table(title=escape(title) if title else None, title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("qty", justify="right")
    table.add_column("unit")
    table.add_column("ingredient", style="bold")
    table.add_column("comment", style="dim")
    table.add_column("conf", justify="right")
    for n, ing in enumerate(ingredients, 1):
        conf = f"{ing.confidence:.2f}"
        if ing.doubtful:
            conf = f"[yellow]{conf} ?[/]"
        table.add_row(
            str(n),
            format_quantity(ing.quantity, ing.quantity_max, lang, ing.unit),
            escape(ing.unit or ""),
            escape(ing.name),
            escape(ing.comment or ""),
            conf,
        )
    return table


def result_json(
    source: str, lang: Lang, title: str | None, text: str, ingredients: Sequence[Ingredient]
) -> dict[str, Any]:
    """The `--json` object of DESIGN.md §3, one per input."""
    return {
        "source": source,
        "lang": lang,
        "title": title,
        "text": text,
        "ingredients": [i.to_json() for i in ingredients],
    }


@app.command()
def parse(
    texts: Annotated[
        list[str], typer.Argument(help="Ingredient text (several lines allowed); '-' reads stdin.")
    ],
    lang: Annotated[LangOption, typer.Option(help="Language of the text.")] = LangOption.auto,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per input, one per line.")
    ] = False,
) -> None:
    """Parse ingredient text into quantity, unit and name."""
    from just_ingredients.parsing import parse_text

    for n, text in enumerate(texts, 1):
        source = "stdin" if text == "-" else f"arg{n}"
        if text == "-":
            text = sys.stdin.read()
        parsed = parse_text(text, _lang(lang))
        if as_json:
            payload = result_json(source, parsed.lang, parsed.title, text, parsed.ingredients)
            typer.echo(json.dumps(payload, ensure_ascii=False))
            continue
        if not parsed.ingredients:
            err.print(f"{source}: no ingredient found", highlight=False)
            continue
        out.print(ingredients_table(parsed.title, parsed.ingredients, parsed.lang))
        if parsed.skipped:
            out.print(f"[dim]skipped {len(parsed.skipped)} line(s) that are not ingredients[/]")


# --- storage commands: migrate, recipes, export, archive -----------------------------------

recipes_app = typer.Typer(no_args_is_help=True, help="Manage stored recipes.")
app.add_typer(recipes_app, name="recipes")

UserOption = Annotated[int, typer.Option("--user", help="Owner's Telegram user id.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class ExportFormatOption(StrEnum):
    json = "json"
    csv = "csv"
    md = "md"


def _with_database(work: Callable[[Database], Awaitable[_T]], *, migrating: bool = False) -> _T:
    """Open DATABASE_URL, check it (schema at head; embedded SQLite migrates itself), run
    `work`, and turn storage errors into one line on stderr with exit code 2."""
    from sqlalchemy.exc import DBAPIError

    from just_ingredients.config import get_settings
    from just_ingredients.service import InvalidInput, NotFound
    from just_ingredients.storage import Database, StorageError

    async def run() -> _T:
        db = Database.from_url(get_settings().database_url.get_secret_value())
        try:
            await (db.migrate() if migrating else db.prepare())
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except StorageError as error:
        raise fail(escape(str(error))) from None
    except DBAPIError as error:
        first = (str(error.orig or error).strip().splitlines() or ["unknown"])[0]
        raise fail(escape(f"database error: {first}")) from None
    except NotFound as error:
        raise fail(escape(str(error)), code=1) from None
    except InvalidInput as error:
        raise fail(escape(str(error))) from None


def _summaries_table(title: str, page: Page[RecipeSummary]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("id", justify="right", style="dim")
    table.add_column("name", style="bold")
    table.add_column("lang")
    table.add_column("ingredients", justify="right")
    table.add_column("created")
    for r in page.items:
        created = r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else ""
        table.add_row(str(r.id), escape(r.name), r.lang, str(r.ingredient_count), created)
    table.caption = (
        f"{page.offset + 1 if page.items else 0}–{page.offset + len(page.items)} of {page.total}"
    )
    return table


def _page_json(page: Page[RecipeSummary]) -> str:
    items = [
        {"id": r.id, "name": r.name, "lang": r.lang, "ingredient_count": r.ingredient_count,
         "created_at": r.created_at.isoformat() if r.created_at else None}
        for r in page.items
    ]  # fmt: skip
    payload = {"total": page.total, "limit": page.limit, "offset": page.offset, "items": items}
    return json.dumps(payload, ensure_ascii=False)


@app.command()
def migrate() -> None:
    """Apply database migrations up to head (safe to run twice or concurrently)."""
    from just_ingredients.storage import head_revision

    _with_database(_noop, migrating=True)
    out.print(f"database schema at {head_revision()}", highlight=False)


async def _noop(_db: Database) -> None:
    return None


@recipes_app.command("list")
def recipes_list(
    user: UserOption,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonFlag = False,
) -> None:
    """List a user's recipes, newest first."""
    from just_ingredients import service

    page = _with_database(lambda db: service.list_recipes(db, user, limit=limit, offset=offset))
    if as_json:
        typer.echo(_page_json(page))
    else:
        out.print(_summaries_table(f"Recipes of {user}", page))


@recipes_app.command("search")
def recipes_search(
    query: Annotated[str, typer.Argument(help="Words of the name or the ingredients.")],
    user: UserOption,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Search a user's recipes by name and ingredient (accents and plurals ignored)."""
    from just_ingredients import service

    page = _with_database(
        lambda db: service.search_recipes(db, user, query, limit=limit, offset=offset)
    )
    if as_json:
        typer.echo(_page_json(page))
    else:
        out.print(_summaries_table(f"Search {query!r}", page))


@recipes_app.command("show")
def recipes_show(
    recipe_id: Annotated[int, typer.Argument(metavar="ID")],
    user: UserOption,
    as_json: JsonFlag = False,
) -> None:
    """Show one recipe with its ingredients."""
    from just_ingredients import service

    recipe = _with_database(lambda db: service.get_recipe(db, user, recipe_id))
    if as_json:
        typer.echo(json.dumps(recipe.to_json(), ensure_ascii=False))
    else:
        out.print(ingredients_table(f"#{recipe.id} {recipe.name}", recipe.ingredients, recipe.lang))


@recipes_app.command("delete")
def recipes_delete(
    recipe_id: Annotated[int, typer.Argument(metavar="ID")], user: UserOption
) -> None:
    """Delete one recipe."""
    from just_ingredients import service

    _with_database(lambda db: service.delete_recipe(db, user, recipe_id))
    out.print(f"deleted recipe {recipe_id}", highlight=False)


@app.command("export")
def export_command(
    user: UserOption,
    fmt: Annotated[ExportFormatOption, typer.Option("--format", help="json, csv or md.")] = (
        ExportFormatOption.json
    ),
    output: Annotated[Path | None, typer.Option(help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Export all of a user's recipes."""
    from just_ingredients import service

    text = _with_database(lambda db: service.export_recipes(db, user, fmt.value))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}", highlight=False)


@app.command()
def archive(
    older_than: Annotated[
        float, typer.Option("--older-than", metavar="DAYS", min=0, help="Age in days.")
    ],
    output: Annotated[Path | None, typer.Option(help="JSONL file (appended).")] = None,
) -> None:
    """Move OCR text older than DAYS out of the database into a JSONL file."""
    from datetime import UTC, datetime, timedelta

    from just_ingredients import service

    target = output or Path(f"ocr-archive-{datetime.now(UTC):%Y%m%d}.jsonl")
    report = _with_database(
        lambda db: service.archive_ocr_entries(db, timedelta(days=older_than), target)
    )
    out.print(
        f"archived {report.archived} OCR entries to {report.output} "
        f"({report.bytes_written} bytes); recipes unchanged",
        highlight=False,
    )


@app.command()
def scan(
    images: Annotated[list[Path], typer.Argument(help="Image files (JPEG, PNG, WebP, BMP, TIFF).")],
    lang: Annotated[LangOption, typer.Option(help="Language of the text.")] = LangOption.auto,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per image, one per line.")
    ] = False,
    save: Annotated[bool, typer.Option("--save", help="Store each result as a recipe.")] = False,
    user: Annotated[
        int | None, typer.Option("--user", help="Owner's Telegram id (with --save).")
    ] = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse and store OCR results in the database.")
    ] = True,
) -> None:
    """Read photos of ingredient lists and parse them (OCR + parser)."""
    if save and user is None:
        raise fail("--save needs --user ID (the owner's Telegram id)")
    from just_ingredients.config import get_settings
    from just_ingredients.i18n import translate
    from just_ingredients.service import ScanResult, save_recipe, scan_image
    from just_ingredients.vision.engine import OcrPool
    from just_ingredients.vision.intake import ImageRejected
    from just_ingredients.vision.result import OcrError, TessdataNotFound

    settings = get_settings()
    wanted = _lang(lang)

    async def scan_all(db: Database | None) -> int:
        try:
            pool = OcrPool(
                size=min(settings.ocr_workers, max(1, len(images))),
                languages=settings.ocr_languages,
                timeout_seconds=settings.ocr_timeout_seconds,
                max_image_bytes=settings.max_image_bytes,
            )
        except TessdataNotFound as error:
            raise fail(escape(str(error))) from None
        limit = asyncio.Semaphore(pool.size)
        failures = 0

        async def one(path: Path) -> ScanResult | str:
            async with limit:
                try:
                    data = await asyncio.to_thread(path.read_bytes)
                except OSError as error:
                    return f"cannot read the file: {error.strerror or error}"
                try:
                    result = await scan_image(
                        pool, data, lang=wanted, db=db, user_id=user, source=str(path)
                    )
                except (ImageRejected, OcrError) as error:
                    limit_mb = f"{settings.max_image_bytes / 1_000_000:g}"
                    return translate("en", error.code, limit_mb=limit_mb)
                if save and user is not None and result.ingredients and db is not None:
                    name = (result.title or path.stem)[:255]
                    recipe = await save_recipe(db, user, name, result.ingredients, result.lang)
                    err.print(f"saved {escape(str(path))} as recipe #{recipe.id}", highlight=False)
                return result

        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=len(images) < 2,
            ) as progress:
                task = progress.add_task("reading photos", total=len(images))

                async def tracked(path: Path) -> ScanResult | str:
                    outcome = await one(path)
                    progress.advance(task)
                    return outcome

                outcomes = await asyncio.gather(*(tracked(p) for p in images))
        finally:
            pool.close()
        for path, outcome in zip(images, outcomes, strict=True):
            if isinstance(outcome, str):
                failures += 1
                if as_json:
                    typer.echo(json.dumps({"source": str(path), "error": outcome}))
                err.print(f"{escape(str(path))}: {escape(outcome)}", highlight=False)
            elif as_json:
                typer.echo(json.dumps(outcome.to_json(), ensure_ascii=False))
            elif not outcome.ingredients:
                err.print(f"{escape(str(path))}: {translate('en', 'no_ingredients')}")
            else:
                title = f"{path.name}" + (f" — {outcome.title}" if outcome.title else "")
                out.print(ingredients_table(title, outcome.ingredients, outcome.lang))
        return failures

    failures = _with_database(scan_all) if save or cache else asyncio.run(scan_all(None))
    if failures:
        raise typer.Exit(1)


@app.command()
def bot(
    polling: Annotated[
        bool | None,
        typer.Option(
            "--polling/--webhook",
            help="Long polling or webhook (default: webhook when WEBHOOK_URL is set).",
        ),
    ] = None,
) -> None:
    """Run the Telegram bot (health and metrics servers included)."""
    from just_ingredients.bot.runtime import StartupError, run_bot
    from just_ingredients.config import get_settings
    from just_ingredients.observability import setup_logging
    from just_ingredients.storage import StorageError

    settings = get_settings()
    secrets = [
        s.get_secret_value() for s in (settings.telegram_bot_token, settings.webhook_secret) if s
    ]
    setup_logging(settings.log_level, settings.log_format, secrets)
    use_polling = polling if polling is not None else not settings.webhook_url
    try:
        asyncio.run(run_bot(settings, "polling" if use_polling else "webhook"))
    except (StartupError, StorageError) as error:
        raise fail(escape(str(error))) from None
    except KeyboardInterrupt:
        pass


@app.command()
def watchdog(
    base_url: Annotated[
        str | None,
        typer.Option(help="Public base URL for /health/ready (default: WEBHOOK_URL's origin)."),
    ] = None,
    max_pending: Annotated[
        int, typer.Option(help="More pending updates than this is a finding.")
    ] = 100,
    error_window_minutes: Annotated[
        float, typer.Option(help="A webhook delivery error this recent is a finding.")
    ] = 60.0,
) -> None:
    """One round of out-of-band checks; findings alert ADMIN_CHAT_ID. Exit 0 fine, 1 findings,
    2 could not run."""
    from just_ingredients.config import get_settings
    from just_ingredients.observability import setup_logging
    from just_ingredients.watchdog import WatchdogCannotRun, config_from_settings, run_round

    try:
        config = config_from_settings(
            base_url=base_url, max_pending=max_pending, error_window_minutes=error_window_minutes
        )
        settings = get_settings()
        setup_logging(settings.log_level, settings.log_format, [config.token])
        report = asyncio.run(run_round(config))
    except WatchdogCannotRun as error:
        raise fail(escape(str(error))) from None
    for line in report.lines():
        style = "red" if line.startswith("FAIL") else "dim" if line.startswith("skip") else ""
        out.print(f"[{style}]{escape(line)}[/]" if style else escape(line), highlight=False)
    raise typer.Exit(report.exit_code)


# --- operations: smoke, cost-report (logic in deploy.py) ------------------------------------

SMOKE_PHOTO = Path("samples/photos/crepes_fr.jpg")


@app.command()
def smoke(
    base_url: Annotated[str, typer.Option(help="Public base URL, e.g. https://APP.fly.dev")],
    expect_webhook: Annotated[
        str | None, typer.Option(help="Expected getWebhookInfo URL (default: BASE_URL + path).")
    ] = None,
    photo: Annotated[
        Path | None, typer.Option(help="Photo sent through the webhook path.")
    ] = SMOKE_PHOTO,
    expect: Annotated[
        list[str] | None,
        typer.Option("--expect", help="Ingredient the bot must find (repeat; default per sample)."),
    ] = None,
    since: Annotated[
        float | None,
        typer.Option(help="Deploy start (unix time): webhook errors at or after it fail."),
    ] = None,
    max_error_age: Annotated[
        float, typer.Option(help="Without --since: webhook errors this recent (minutes) fail.")
    ] = 10.0,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the health probes.")] = 30.0,
    reply_timeout: Annotated[float, typer.Option(help="Seconds to wait for the reply.")] = 90.0,
    http_only: Annotated[
        bool, typer.Option("--http-only", help="Only the health probes (no Telegram calls).")
    ] = False,
    check_draft: Annotated[
        bool,
        typer.Option("--check-draft", help="Verify the reply as a draft in DATABASE_URL."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Post-deploy smoke check: health, getWebhookInfo, a photo through the webhook. Exit 0/1."""
    from just_ingredients.config import get_settings
    from just_ingredients.deploy import SmokeOptions, run_smoke

    settings = get_settings()
    options = SmokeOptions(
        base_url=base_url,
        api_url=settings.telegram_api_url,
        token=(
            settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
        ),
        webhook_secret=(
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        ),
        admin_chat_id=settings.admin_chat_id,
        expect_webhook=expect_webhook,
        photo=photo,
        expect_ingredients=expect or None,
        since=since,
        max_error_age=max_error_age * 60,
        wait_seconds=wait,
        reply_timeout=reply_timeout,
        http_only=http_only,
        check_draft=check_draft,
        database_url=settings.database_url.get_secret_value() if check_draft else None,
    )
    report = asyncio.run(run_smoke(options))
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        table = Table(title=f"smoke {escape(report.base_url)}", title_justify="left")
        table.add_column("check")
        table.add_column("result")
        table.add_column("s", justify="right", style="dim")
        table.add_column("detail", overflow="fold")
        colour = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        for check in report.checks:
            result = f"[{colour[check.status]}]{check.status.upper()}[/]"
            table.add_row(escape(check.name), result, f"{check.seconds:.1f}", escape(check.detail))
        table.caption = "PASSED" if report.ok else "FAILED"
        out.print(table)
    raise typer.Exit(0 if report.ok else 1)


@app.command("cost-report")
def cost_report(
    more_configs: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[CONFIG]...", help="More fly configs (after --configs).", show_default=False
        ),
    ] = None,
    configs: Annotated[
        list[Path] | None,
        typer.Option("--configs", help="Fly configs (default: staging and production)."),
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option(help="Running hours a month per machine (default: 120 with auto-stop)."),
    ] = None,
    volume_gb: Annotated[
        float, typer.Option("--volume-gb", help="Database volume size in GB.")
    ] = 1.0,
    dedicated_ipv4: Annotated[
        bool, typer.Option("--dedicated-ipv4", help="Count a dedicated IPv4 per app.")
    ] = False,
    postgres: Annotated[
        bool, typer.Option(help="Count one Fly Postgres machine + volume per app.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Monthly cost estimate from the fly configs, and the database size against its volume.
    Exit 1 when the database is over 80 % of its volume."""
    from just_ingredients.config import get_settings
    from just_ingredients.deploy import (
        ARCHIVE_SUGGESTION,
        DATABASE_WARN_RATIO,
        PRICES_DATE,
        PRICES_SOURCE,
        app_cost,
        cost_report_json,
        database_usage,
    )

    given = [*(configs or []), *(more_configs or [])]  # `--configs A B` works as in the docs
    paths = given or [Path("deploy/fly.staging.toml"), Path("deploy/fly.production.toml")]
    try:
        apps = [
            app_cost(p, hours=hours, postgres_volume_gb=volume_gb,
                     dedicated_ipv4=dedicated_ipv4, with_postgres=postgres)
            for p in paths
        ]  # fmt: skip
    except (OSError, ValueError) as error:
        raise fail(escape(str(error))) from None
    usage = database_usage(get_settings().database_url.get_secret_value(), volume_gb)
    if as_json:
        typer.echo(json.dumps(cost_report_json(apps, usage)))
    else:
        table = Table(title="Monthly estimate (USD)", title_justify="left")
        table.add_column("app", no_wrap=True)
        table.add_column("vm", no_wrap=True)
        for column in ("h/month", "vm $", "volume $", "IPv4 $", "postgres $", "total $"):
            table.add_column(column, justify="right")
        for a in apps:
            table.add_row(
                escape(a.app), f"{a.machines}× {a.size} {a.memory_mb}MB", f"{a.hours:g}",
                f"{a.machine_usd:.2f}", f"{a.volume_usd:.2f}", f"{a.ipv4_usd:.2f}",
                f"{a.postgres_usd:.2f}", f"{a.total_usd:.2f}",
            )  # fmt: skip
        table.caption = (
            f"total {sum(a.total_usd for a in apps):.2f} USD/month; prices of {PRICES_DATE} "
            f"from {PRICES_SOURCE}"
        )
        out.print(table)
        if usage.ratio is None or usage.size_bytes is None:
            out.print(f"database: size unknown ({escape(usage.detail)})", highlight=False)
        else:
            out.print(
                f"database: {usage.size_bytes / 1024**2:.1f} MB of {usage.volume_gb:g} GB "
                f"({usage.ratio:.0%}) — {escape(usage.detail)}",
                highlight=False,
            )
        if usage.over_threshold:
            out.print(
                f"[bold yellow]warning:[/] database over {DATABASE_WARN_RATIO:.0%} of its volume:"
                f" run `{ARCHIVE_SUGGESTION}` or grow the volume",
                highlight=False,
            )
    if usage.over_threshold:
        raise typer.Exit(1)


def main() -> None:
    app()
