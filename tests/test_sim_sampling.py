"""Exception logging, regular logging and outages on a real PostgreSQL: the shapes the dashboard must tell apart.

A plant historian logs temperature by exception: a row only when the value
moves by a quantum, so a steady value leaves minutes between rows. A regular
series writes every few seconds, so a few minutes without a row is an outage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

import asyncpg
import numpy as np
import numpy.typing as npt
import pytest

from realtime.series import SeriesSpec
from realtime.sim.live import Simulator
from realtime.sim.models import Model, Random
from realtime.sim.sampling import Feed, Sampling, check_sampling
from realtime.sim.tables import Outage, backfill, create_tables
from tests.support.pg import TestDb, run

END = datetime(2026, 3, 10, 12, 0, 0, tzinfo=timezone.utc)
QUANTUM = 0.0014  # °C, the temperature instrument's resolution and deadband


async def _rows(db: TestDb, spec: SeriesSpec, where: str = "") -> list[asyncpg.Record]:
    conn = await db.connect()
    try:
        return list(await conn.fetch(f"SELECT time, value FROM {spec.qualified_name} {where} ORDER BY time"))
    finally:
        await conn.close()


async def _backfill(
    db: TestDb,
    series: tuple[SeriesSpec, ...],
    *,
    hours: float,
    seed: int | None = None,
    sampling: Mapping[str, Sampling] | None = None,
    gaps: bool = True,
    outages: Sequence[Outage] = (),
) -> dict[str, int]:
    conn = await db.connect()
    try:
        return await backfill(
            conn, series, hours=hours, end=END, seed=seed, sampling=sampling, gaps=gaps, outages=outages
        )
    finally:
        await conn.close()


def _intervals(rows: list[asyncpg.Record]) -> npt.NDArray[np.float64]:
    return np.diff([r["time"].replace(tzinfo=timezone.utc).timestamp() for r in rows])


def _quanta(rows: list[asyncpg.Record]) -> npt.NDArray[np.float64]:
    """Each row's change from the previous one, in quanta; whole numbers, checked."""
    moves: npt.NDArray[np.float64] = np.diff([r["value"] for r in rows]) / QUANTUM
    # float32 storage: within a hundredth of a quantum of a whole number.
    assert np.abs(moves - np.round(moves)).max() < 0.01
    return np.round(moves)


def test_exception_logged_temperature_has_the_plant_profile(db: TestDb) -> None:
    temperature, pressure = db.spec("temperature"), db.spec("pressure")
    written = run(_backfill(db, (temperature, pressure), hours=6.0, seed=7))
    rows = run(_rows(db, temperature))
    assert len(rows) == written["temperature"]
    steps = _intervals(rows)
    p10, p50, p90, p99 = np.percentile(steps, [10, 50, 90, 99])
    # The plant's run: 2,420 rows in 6 h; p10 2 s, p50 4 s, p90 19 s, p99 89 s, max 246 s.
    assert 1500 <= len(rows) <= 3500
    assert 2.0 <= p10 <= 3.0
    assert 3.0 <= p50 <= 6.0
    assert 12.0 <= p90 <= 30.0
    assert 50.0 <= p99 <= 130.0
    assert 120.0 <= steps.max() <= 420.0
    assert steps.min() >= 1.0, "read once a second, so never two rows closer than a scan"
    moves = _quanta(rows)
    assert (np.abs(moves) >= 1).all(), "every row moved by at least the deadband: no heartbeat, no repeats"
    # Long intervals are a steady value, not an outage: each ends in a single quantum's step.
    assert (steps > 60).sum() >= 20
    assert (np.abs(moves[steps > 30]) == 1).all()

    # The regular series beside it writes every reading, so it repeats values and never pauses long.
    regular = run(_rows(db, pressure))
    regular_steps = _intervals(regular)
    assert np.median(regular_steps) == pytest.approx(3.8, rel=0.1)
    assert (np.diff([r["value"] for r in regular]) == 0).sum() > 100
    assert regular_steps.max() <= 250


def test_sampling_is_a_per_series_choice(db: TestDb) -> None:
    temperature, ph = db.spec("temperature"), db.spec("ph")
    run(_backfill(db, (temperature, ph), hours=1.0, seed=3, sampling={"temperature": "regular", "ph": "exception"}))
    rows = run(_rows(db, temperature))
    # Regular: every reading around a 2 s median, still on the instrument's grid, repeats allowed.
    assert np.median(_intervals(rows)) == pytest.approx(2.0, rel=0.1)
    assert (_quanta(rows) == 0).any()
    ph_rows = run(_rows(db, ph))
    # pH by exception: quantised to its 0.002 deadband, and written only when it moves by one.
    moves = np.diff([r["value"] for r in ph_rows]) / 0.002
    assert np.abs(moves - np.round(moves)).max() < 0.01
    assert (np.abs(np.round(moves)) >= 1).all()
    with pytest.raises(ValueError, match="sometimes"):
        check_sampling({"ph": "sometimes"})


def test_backfill_outage_cuts_exactly_the_requested_hole(db: TestDb) -> None:
    """A 4-minute outage is a hole far longer than any of the DO's own intervals; elsewhere the rows are as without it."""
    do, temperature = db.spec("do"), db.spec("temperature")
    start = END - timedelta(hours=1)
    hole = (start.replace(tzinfo=None), (start + timedelta(minutes=4)).replace(tzinfo=None))
    copies = tuple(dataclasses.replace(s, table=f"copy of {s.table}") for s in (do, temperature))

    async def go() -> None:
        conn = await db.connect()
        try:
            await create_tables(conn, copies)
        finally:
            await conn.close()
        outages = [Outage("do", start, 240.0), Outage("temperature", start, 240.0)]
        await _backfill(db, (do, temperature), hours=2.0, seed=5, gaps=False, outages=outages)
        await _backfill(db, copies, hours=2.0, seed=5, gaps=False)

    run(go())
    cut, whole = run(_rows(db, do)), run(_rows(db, copies[0]))
    assert cut == [r for r in whole if not hole[0] <= r["time"] < hole[1]]
    assert len(cut) < len(whole) - 100
    steps = _intervals(cut)
    assert _intervals(whole).max() < 10.0, "a regular 1 s series has no long pauses of its own"
    assert 240.0 <= steps.max() < 250.0
    assert (steps > 10.0).sum() == 1

    # Temperature: the same hole; the historian writes the value on reconnecting, at the next scan.
    cut, whole = run(_rows(db, temperature)), run(_rows(db, copies[1]))
    before = [r for r in whole if r["time"] < hole[0]]
    assert cut[: len(before)] == before
    after = cut[len(before)]
    assert hole[1] <= after["time"] < hole[1] + timedelta(seconds=1)
    assert not [r for r in cut if hole[0] <= r["time"] < hole[1]]


class _Steady(Model):
    def value(self, t: float, dt: float) -> float:
        return 37.0


class _Ramp(Model):
    def value(self, t: float, dt: float) -> float:
        return 37.0 + 0.0005 * t


def test_exception_logging_writes_changes_only_and_afresh_after_an_outage() -> None:
    spec = SeriesSpec("temperature", "t", "Temperature")
    feed = Feed(spec, Random(1, spec.key), gaps=False)
    feed.model = _Steady(feed.rng)
    # Read every second for 200 s, offline from 100 s to 110 s.
    written = [feed.read(1000 * k, online=not 100 <= k < 110) for k in range(200)]
    # No heartbeat: a steady value is written when logging starts, and again when it reconnects.
    assert [k for k, v in enumerate(written) if v is not None] == [0, 110]
    assert written[0] == written[110] == pytest.approx(37.0, abs=QUANTUM / 2)

    feed = Feed(spec, Random(1, spec.key), gaps=False)
    feed.model = _Ramp(feed.rng)
    ramp = [v for v in (feed.read(1000 * k) for k in range(200)) if v is not None]
    # 0.0005 °C/s crosses a 0.0014 °C quantum every 2.8 s: one row each, one quantum apart.
    assert len(ramp) == pytest.approx(200 / 2.8, abs=2)
    assert np.diff(ramp) == pytest.approx(QUANTUM)


def test_backfill_rejects_outages_it_cannot_cut(db: TestDb) -> None:
    with pytest.raises(ValueError, match="unknown series: nope"):
        run(_backfill(db, (db.spec("do"),), hours=1.0, outages=[Outage("nope", END, 10.0)]))
    with pytest.raises(ValueError, match="positive"):
        run(_backfill(db, (db.spec("do"),), hours=1.0, outages=[Outage("do", END, 0.0)]))


async def _rows_since(db: TestDb, spec: SeriesSpec, since: datetime, wanted: int, timeout: float) -> None:
    """Waits until the table holds ``wanted`` rows at or after ``since``."""
    deadline = time.monotonic() + timeout
    conn = await db.connect()
    try:
        while await conn.fetchval(f"SELECT count(*) FROM {spec.qualified_name} WHERE time >= $1", since) < wanted:
            assert time.monotonic() < deadline, f"{spec.key}: fewer than {wanted} rows since {since}"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


def test_live_simulator_logs_temperature_by_exception_and_do_regularly(db: TestDb) -> None:
    temperature, do = db.spec("temperature"), db.spec("do")
    since = datetime.now(timezone.utc).replace(tzinfo=None)

    async def go() -> None:
        stop = asyncio.Event()
        # Seed 5 starts the temperature in an active spell, so it moves within seconds.
        simulator = Simulator(db.admin, (temperature, do), seed=5, gaps=False)
        task = asyncio.create_task(simulator.run(stop))
        try:
            await _rows_since(db, temperature, since, 4, 60)
            await _rows_since(db, do, since, 8, 30)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)

    run(go())
    rows = run(_rows(db, temperature))
    assert len(rows) >= 4
    assert (np.abs(_quanta(rows)) >= 1).all(), "a row only when the value moved"
    assert _intervals(rows).min() >= 0.9, "at most one row per scan"
    do_rows = run(_rows(db, do))
    # DO writes every reading, about once a second.
    assert 0.5 <= np.median(_intervals(do_rows)) <= 2.0
    assert do_rows[-1]["time"] - do_rows[0]["time"] <= timedelta(seconds=2.5 * len(do_rows))


def test_live_interrupt_cuts_a_hole(db: TestDb) -> None:
    temperature, do = db.spec("temperature"), db.spec("do")
    holes: dict[str, tuple[datetime, datetime]] = {}

    async def go() -> None:
        stop = asyncio.Event()
        simulator = Simulator(db.admin, (temperature, do), seed=5, gaps=False)
        task = asyncio.create_task(simulator.run(stop))
        try:
            start = datetime.now(timezone.utc).replace(tzinfo=None)
            await _rows_since(db, do, start, 2, 10)
            await _rows_since(db, temperature, start, 1, 10)
            for key in ("do", "temperature"):
                holes[key] = simulator.interrupt(key, 3.0)
            with pytest.raises(KeyError):
                simulator.interrupt("ph", 1.0)
            await _rows_since(db, do, holes["do"][1], 2, 10)
            await _rows_since(db, temperature, holes["temperature"][1], 1, 10)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)

    run(go())
    for spec in (do, temperature):
        low, high = holes[spec.key]
        assert high - low == timedelta(seconds=3)
        rows = run(_rows(db, spec))
        assert not [r for r in rows if low <= r["time"] < high], f"{spec.key} wrote during its outage"
        first_after = min(r["time"] for r in rows if r["time"] >= high)
        # The first reading after the outage is written (DO reads about every second, temperature every second).
        assert first_after - high < timedelta(seconds=4)
        assert max(r["time"] for r in rows if r["time"] < low) > low - timedelta(seconds=5)
