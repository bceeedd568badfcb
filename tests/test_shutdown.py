"""Graceful shutdown: in-flight tracking, draining, and real SIGTERM to a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from just_ingredients.shutdown import (
    InFlight,
    ShuttingDown,
    stopping_middleware,
    track_update_processor,
    tracking_update_processor,
)

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, sys
    from just_ingredients.shutdown import InFlight, install_signal_handlers

    async def main(task_seconds: float, grace: float) -> None:
        stop = install_signal_handlers()
        inflight = InFlight()

        async def scan() -> None:
            async with inflight.track("scan for user 42"):
                print("job started", flush=True)
                await asyncio.sleep(task_seconds)
                print("job done", flush=True)

        task = asyncio.create_task(scan())
        await stop.wait()
        abandoned = await inflight.drain(grace)
        print("abandoned:", abandoned, flush=True)
        await asyncio.gather(task, return_exceptions=True)

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(main(float(sys.argv[1]), float(sys.argv[2])))
    """
)


def start_script(tmp_path: Path, task_seconds: float, grace: float) -> subprocess.Popen[str]:
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), str(task_seconds), str(grace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the tracked job runs
    assert line.strip() == "job started", process.stderr.read() if process.stderr else ""
    return process


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    return process.returncode, stdout, stderr, time.monotonic() - started


def test_sigterm_lets_the_tracked_job_finish_then_exits_0(tmp_path: Path) -> None:
    grace = 8.0
    process = start_script(tmp_path, task_seconds=2.0, grace=grace)
    process.send_signal(signal.SIGTERM)
    code, stdout, stderr, elapsed = finish(process)

    assert code == 0, stderr
    assert "job done" in stdout
    assert "abandoned: []" in stdout
    assert "SIGTERM received" in stderr
    assert elapsed < grace


def test_a_grace_shorter_than_the_job_abandons_it_with_a_warning(tmp_path: Path) -> None:
    grace = 1.0
    process = start_script(tmp_path, task_seconds=30.0, grace=grace)
    process.send_signal(signal.SIGTERM)
    code, stdout, stderr, elapsed = finish(process)

    assert code == 0, stderr
    assert "job done" not in stdout
    assert "abandoned: ['scan for user 42']" in stdout
    warning = [line for line in stderr.splitlines() if line.startswith("WARNING")]
    assert len(warning) == 1
    assert "abandoning 1 job(s) in flight: scan for user 42" in warning[0]
    assert grace <= elapsed < grace + 10  # not the job's 30 s


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    process = start_script(tmp_path, task_seconds=30.0, grace=30.0)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    code, _, stderr, elapsed = finish(process)
    assert code == 128 + signal.SIGTERM, stderr
    assert elapsed < 10


# --------------------------------------------------------------------------- in process


async def test_track_counts_and_close_refuses_new_work() -> None:
    inflight = InFlight()
    async with inflight.track("a"):
        assert inflight.names == ["a"]
        inflight.close()
        with pytest.raises(ShuttingDown):
            async with inflight.track("b"):
                pass
        async with inflight.track("accepted before", force=True):
            assert inflight.count == 2
    assert inflight.count == 0
    assert await inflight.readiness_check() == (False, "shutting down (0 in flight)")


async def test_drain_with_nothing_in_flight_returns_at_once() -> None:
    inflight = InFlight()
    assert await inflight.readiness_check() == (True, "0 in flight")
    started = time.monotonic()
    assert await inflight.drain(10) == []
    assert time.monotonic() - started < 1


async def test_drain_waits_for_several_jobs() -> None:
    inflight = InFlight()
    done: list[int] = []

    async def job(n: int) -> None:
        async with inflight.track(f"job {n}"):
            await asyncio.sleep(0.1 * n)
            done.append(n)

    tasks = [asyncio.create_task(job(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    assert await inflight.drain(5) == []
    assert sorted(done) == [1, 2, 3]
    await asyncio.gather(*tasks)


async def test_webhook_posts_get_503_once_stopping_while_probes_answer() -> None:
    inflight = InFlight()
    app = web.Application(middlewares=[stopping_middleware(inflight, paths={"/telegram"})])

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_post("/telegram", ok)
    app.router.add_get("/health/live", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/telegram", json={}) as r:
                assert r.status == 200
            inflight.close()
            async with http.post(f"{base}/telegram", json={}) as r:
                assert r.status == 503
                assert r.headers["Retry-After"] == "5"
            async with http.get(f"{base}/health/live") as r:
                assert r.status == 200
    finally:
        await runner.cleanup()


async def test_ptb_update_processor_tracks_each_update() -> None:
    inflight = InFlight()
    processor = tracking_update_processor(inflight, 4)
    seen: list[list[str]] = []

    class Update:
        update_id = 321

    async def handle() -> None:
        seen.append(inflight.names)

    async with processor:
        await processor.process_update(Update(), handle())
    assert seen == [["update 321"]]
    assert inflight.count == 0


def test_module_imports_without_telegram_loaded() -> None:
    code = "import sys, just_ingredients.shutdown; print('telegram' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ},
    )
    assert out.stdout.strip() == "False"


async def test_an_existing_update_processor_can_be_tracked() -> None:
    from telegram.ext import SimpleUpdateProcessor

    class ChatOrdered(SimpleUpdateProcessor):  # like the bot's own processor
        pass

    inflight = InFlight()
    processor = ChatOrdered(4)
    track_update_processor(processor, inflight)
    seen: list[list[str]] = []

    class Update:
        update_id = 7

    async def handle() -> None:
        seen.append(inflight.names)

    await processor.process_update(Update(), handle())
    assert seen == [["update 7"]]
    assert inflight.count == 0
