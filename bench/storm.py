"""The reconnect storm (#8): N viewers reconnect at once, each replaying the last hour.

The viewers run in two worker processes (spawn), as lean viewers
(:mod:`bench.leanviewer`): one process of `websockets` clients, on the same
two cores as the server, spent three times the server's CPU reading the
replays (about 860 KB each), and was what the storm measured. Each worker connects its share when told, subscribes all of them when told,
and reports when the last of them has received its whole replay. The phases
are timed apart, on CLOCK_MONOTONIC (one clock for every process):

- connect: "connect" sent to the workers -> the last handshake done;
- replay: "subscribe" sent -> the last viewer's fourth replay received;
- end to end: "connect" sent -> the last replay received.

Meanwhile one more viewer, in a process of its own, records when live rows
arrive, and the server's RSS is read before, at the peak and after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import resource
import time
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import connect

from bench.common import TABLES, pct, proc_cpu, proc_rss, write_rows
from bench.leanviewer import LeanViewer, open_viewer
from tests.support.pg import TestDb

__all__ = ["HOUR_ROWS", "WORKERS", "report", "storm"]

WORKERS = 2
# Rows in each series' hour of history strictly after ``since`` (2 rows/s; the row at ``since`` is not sent).
HOUR_ROWS = 7199


def _watch(url: str, seconds: float, pipe: Connection) -> None:
    """One viewer in a process of its own, so the storm's clients cannot slow what it measures.

    Sends "ready" once connected, then, after ``seconds``, each live row id's arrival time.
    """

    async def run() -> dict[int, float]:
        arrivals: dict[int, float] = {}
        async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
            pipe.send("ready")
            deadline = time.perf_counter() + seconds
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    raw = await asyncio.wait_for(ws.recv(), left)
                except (TimeoutError, asyncio.TimeoutError):
                    break
                now = time.perf_counter()
                data = json.loads(raw)
                for msg in data if isinstance(data, list) else [data]:
                    if msg["type"] == "append" and not msg["replay"]:
                        for v in msg["v"]:
                            arrivals.setdefault(int(v), now)
        return arrivals

    pipe.send(asyncio.run(run()))


class _Share:
    """One worker's viewers: replays counted per viewer, the first viewer's parsed and checked."""

    def __init__(self, url: str, n: int) -> None:
        self.url = url
        self.n = n
        self.viewers: list[LeanViewer] = []
        self.replays = [0] * n
        self.complete = 0
        self.done_at = float("nan")
        self.all_done = asyncio.Event()

    async def join(self) -> None:
        # In batches: a thousand SYNs at once would overflow the listen backlog and retry after 1 s.
        for start in range(0, self.n, 100):
            batch = [
                open_viewer(self.url, partial(self._replays, i), keep=i == 0)
                for i in range(start, min(start + 100, self.n))
            ]
            self.viewers += await asyncio.gather(*batch)

    def _replays(self, i: int, k: int) -> None:
        before = self.replays[i]
        self.replays[i] += k
        if before < len(TABLES) <= self.replays[i]:
            self.complete += 1
            if self.complete == self.n:
                self.done_at = time.perf_counter()
                self.all_done.set()

    @property
    def sample(self) -> dict[str, int]:
        """Rows per series in the first viewer's replays."""
        return self.viewers[0].rows if self.viewers else {}

    async def subscribe(self, since_ms: int, timeout: float) -> None:
        sub = json.dumps({"type": "subscribe", "since": dict.fromkeys(TABLES, since_ms)})
        for v in self.viewers:
            v.send_text(sub)
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await asyncio.wait_for(self.all_done.wait(), timeout)

    async def leave(self) -> None:
        await asyncio.gather(*(v.close() for v in self.viewers), return_exceptions=True)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _viewers(url: str, n: int, pipe: Connection) -> None:
    """A worker: ``n`` viewers, driven by the pipe ("connect", then ("subscribe", since_ms), then "leave")."""

    async def run() -> None:
        share = _Share(url, n)
        pipe.send("up")
        assert await asyncio.to_thread(pipe.recv) == "connect"
        cpu0 = _cpu()
        await share.join()
        pipe.send((time.perf_counter(), _cpu() - cpu0))
        _, since_ms = await asyncio.to_thread(pipe.recv)
        cpu0 = _cpu()
        await share.subscribe(since_ms, 60.0)
        pipe.send(
            {
                "cpu": _cpu() - cpu0,
                "done_at": share.done_at,
                "replays": sum(share.replays),
                "whole": sum(1 for r in share.replays if r == len(TABLES)),
                "sample": share.sample,
            }
        )
        assert await asyncio.to_thread(pipe.recv) == "leave"
        await share.leave()
        pipe.send("left")

    asyncio.run(run())


def _answer(pipe: Connection, timeout: float) -> Any:
    # A worker that failed (its traceback is on stderr) must not leave the benchmark waiting forever.
    if not pipe.poll(timeout):
        raise TimeoutError(f"a storm worker did not answer within {timeout:.0f} s")
    return pipe.recv()


async def _all(pipes: list[Connection], timeout: float = 90.0) -> list[Any]:
    return list(await asyncio.gather(*(asyncio.to_thread(_answer, p, timeout) for p in pipes)))


async def storm(db: TestDb, url: str, pid: int, n: int, since_ms: int, first_id: int) -> dict[str, Any]:
    """n viewers reconnect at once, each replaying the last hour, while one viewer watches live rows."""
    mp = multiprocessing.get_context("spawn")
    here, there = mp.Pipe()
    watcher = mp.Process(target=_watch, args=(url, 20.0, there), daemon=True)
    watcher.start()
    pipes: list[Connection] = []
    workers = []
    for k in range(WORKERS):
        mine, theirs = mp.Pipe()
        share = n // WORKERS + (k < n % WORKERS)
        workers.append(mp.Process(target=_viewers, args=(url, share, theirs), daemon=True))
        workers[-1].start()
        pipes.append(mine)
    assert await asyncio.to_thread(here.recv) == "ready"
    assert await _all(pipes) == ["up"] * WORKERS
    rss0 = proc_rss(pid)
    committed: dict[int, float] = {}
    writer = asyncio.create_task(write_rows(db, 12.0, first_id, committed))
    cpu0, started = proc_cpu(pid), time.perf_counter()
    for p in pipes:
        p.send("connect")
    joined = await _all(pipes)
    cpu1, subscribed = proc_cpu(pid), time.perf_counter()
    for p in pipes:
        p.send(("subscribe", since_ms))
    results = await _all(pipes)
    cpu2 = proc_cpu(pid)
    connected = max(t for t, _ in joined)
    done = max(r["done_at"] for r in results)
    await writer
    arrivals: dict[int, float] = await asyncio.to_thread(here.recv)
    watcher.join(10)
    peak = proc_rss(pid)
    for p in pipes:
        p.send("leave")
    assert await _all(pipes) == ["left"] * WORKERS
    for w in workers:
        w.join(10)
    await asyncio.sleep(5)
    lat = [(arrivals[r] - committed[r]) * 1000 for r in committed if r in arrivals]
    sampled = [rows for r in results for rows in r["sample"].values()]
    return {
        "n": n,
        "connect_s": connected - started,
        "replay_s": done - subscribed,
        # CPU seconds in each phase: the server's, and its clients' (both workers together).
        "connect_cpu": (cpu1 - cpu0, sum(c for _, c in joined)),
        "replay_cpu": (cpu2 - cpu1, sum(r["cpu"] for r in results)),
        "end_to_end_s": done - started,
        "replays": sum(r["replays"] for r in results),
        "whole": sum(r["whole"] for r in results),
        # Every sampled replay holds the whole hour, of every series.
        "sample_ok": len(sampled) == WORKERS * len(TABLES) and min(sampled) >= HOUR_ROWS,
        "live_p99": pct(lat, 0.99),
        "live_max": max(lat) if lat else float("nan"),
        "live_missed": sum(1 for r in committed if r not in arrivals),
        "rss_peak_mb": (peak - rss0) / 1e6,
        "rss_after_mb": (proc_rss(pid) - rss0) / 1e6,
    }


def report(storms: list[dict[str, Any]]) -> None:
    """The storms' table: NaN replay times mean not every viewer got its four replays within 60 s."""
    print(
        f"\nreconnect storm, each viewer replaying 1 h of {len(TABLES)} series; its clients in {WORKERS} processes,"
        " live rows watched from a third"
    )
    print("(CPU s: the server's / its clients', in that phase)")
    print(
        "viewers  connect s  (CPU s)    replay s  (CPU s)    end-to-end s  whole replays  sample ok"
        "  live p99 ms  live max ms  missed  RSS peak  RSS after"
    )
    for s in storms:
        cpu = {k: "{:.2f}/{:.2f}".format(*s[k]) for k in ("connect_cpu", "replay_cpu")}
        print(
            f"{s['n']:>7}  {s['connect_s']:>9.2f}  {cpu['connect_cpu']:<9}  {s['replay_s']:>8.2f}"
            f"  {cpu['replay_cpu']:<9}  {s['end_to_end_s']:>12.2f}"
            f"  {s['whole']:>6}/{s['n']:<6}  {'yes' if s['sample_ok'] else 'NO':>9}"
            f"  {s['live_p99']:>11.0f}  {s['live_max']:>11.0f}  {s['live_missed']:>6}"
            f"  {s['rss_peak_mb']:>+6.0f} MB  {s['rss_after_mb']:>+6.0f} MB"
        )
