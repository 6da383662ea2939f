"""One poller per table: load once, then fetch only unseen rows.

Three ways rows can arrive, and how each is caught:

* newer than the newest stored row: ``time >= newest`` every poll;
* at the newest timestamp, committed after a row with that timestamp was
  seen: the same query returns every row at ``newest``, and the multiset
  difference against the stored ones is what is new;
* older (store-and-forward backfill): a cheap reconciliation compares
  per-minute row counts over a recent horizon with the store, and fetches
  only the minutes that differ.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable

import asyncpg
import numpy as np

from realtime import messages
from realtime.backoff import Backoff
from realtime.config import Settings
from realtime.db import CONNECTION_ERRORS, Conn, SeriesSql, TableMissing, TableUnusable, probe_table, read_rows
from realtime.health import DbHealth
from realtime.hub import Hub
from realtime.rows import F64, I64, Rows
from realtime.series import SeriesSpec
from realtime.store import Batch, SeriesData, SeriesState
from realtime.times import MINUTE_US, dt_from_us, us_from_dt

__all__ = ["Poller"]

log = logging.getLogger(__name__)

# Minutes fetched per reconciliation round, so a big backfill spreads out.
_MAX_MINUTES_PER_ROUND = 120
_RETRY_MISSING = 5.0
_MAX_BACKOFF = 5.0


def _value_key(x: float) -> float | None:
    return None if math.isnan(x) else x


def _missing(db: Iterable[tuple[int, float]], have: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """Rows in ``db`` beyond those in ``have``, as a multiset (NaN equals NaN)."""
    remaining = Counter((t, _value_key(v)) for t, v in have)
    out: list[tuple[int, float]] = []
    for t, v in db:
        k = (t, _value_key(v))
        if remaining[k] > 0:
            remaining[k] -= 1
        else:
            out.append((t, v))
    return out


def _pairs(rows: Rows) -> list[tuple[int, float]]:
    return list(zip(rows[0].tolist(), rows[1].tolist(), strict=False))


class Poller:
    def __init__(
        self, spec: SeriesSpec, settings: Settings, pool: asyncpg.Pool, series: SeriesData, hub: Hub, health: DbHealth
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.pool = pool
        self.series = series
        self.hub = hub
        self.health = health
        self.sql: SeriesSql | None = None
        self._next_reconcile = 0.0
        self._warned_deleted = False

    async def run(self) -> None:
        interval = self.settings.poll_interval
        backoff = Backoff(interval, max(interval, _MAX_BACKOFF))
        while True:
            try:
                async with self.pool.acquire() as conn:
                    await self.step(conn)
                self.health.ok()
                backoff.reset()
                delay = interval
            except TableMissing as exc:
                self._mark("missing", str(exc))
                self.health.ok()
                delay = max(interval, _RETRY_MISSING)
            except asyncpg.UndefinedTableError as exc:
                # Dropped while we watched: keep what we have, look for it again.
                self.sql = None
                self.series.unload()
                self._mark("missing", str(exc))
                delay = max(interval, _RETRY_MISSING)
            except CONNECTION_ERRORS as exc:
                self.health.down(exc)
                delay = backoff.next()
            except asyncpg.PostgresError as exc:
                # Reachable but refusing, e.g. no SELECT privilege.
                self._mark("error", str(exc).splitlines()[0])
                self.health.ok()
                delay = max(interval, _RETRY_MISSING)
            except TableUnusable as exc:
                self._mark("error", str(exc))
                self.health.ok()
                delay = max(interval, _RETRY_MISSING)
            except Exception as exc:
                # A poller must never die: that would take the whole app down.
                if self.series.error != str(exc):
                    log.exception("series %s: unexpected error while polling", self.spec.key)
                self._mark("error", str(exc) or type(exc).__name__)
                delay = max(interval, _RETRY_MISSING)
            await asyncio.sleep(delay)

    def _mark(self, state: SeriesState, error: str) -> None:
        if self.series.mark(state, error):
            log.warning("series %s: %s", self.spec.key, error)

    async def step(self, conn: Conn) -> None:
        if self.sql is None or not self.series.loaded:
            await self.load(conn)
            return
        await self.poll(conn)
        if time.monotonic() >= self._next_reconcile:
            self._next_reconcile = time.monotonic() + self.settings.reconcile_interval
            await self.reconcile(conn)

    async def load(self, conn: Conn) -> None:
        """Bulk-read the table into the store, within the memory budget/horizon."""
        info = await probe_table(conn, self.spec)
        sql = SeriesSql(self.spec, self.settings.data_timezone, info)
        policy = self.series.policy
        budget = policy.max_points
        start: int | None = None
        estimate = await conn.fetchval(sql.estimated_rows(), sql.table)
        capacity = min(int(estimate * 1.05) + 1024, budget) if estimate and estimate > 0 else 0
        # reltuples is -1 (or 0) until the table is first analysed: then probe.
        if estimate is None or estimate <= 0 or estimate > 0.8 * budget:
            cutoff = await conn.fetchval(sql.cutoff_for_newest(), budget - 1)
            start = us_from_dt(cutoff) if cutoff is not None else None
        if policy.horizon_us is not None:
            newest = await conn.fetchval(sql.cutoff_for_newest(), 0)
            if newest is not None:
                edge = us_from_dt(newest) - policy.horizon_us
                start = edge if start is None else max(start, edge)
        started = time.perf_counter()
        if start is None:
            rows = _sorted(await read_rows(conn, sql.all_rows_unordered(), capacity=capacity))
            self.series.replace(rows, covered_from=None)
        else:
            rows = _sorted(await read_rows(conn, sql.rows_from_unordered(), dt_from_us(start), capacity=capacity))
            first = await conn.fetchval(sql.first_time())
            before = await conn.fetchval(sql.count_before(), dt_from_us(start))
            self.series.replace(
                rows, covered_from=start, rows_before=int(before), first=us_from_dt(first) if first else None
            )
        self.sql = sql
        log.info(
            "series %s: loaded %d rows in %.2fs (%d stored before)",
            self.spec.key,
            rows[0].size,
            time.perf_counter() - started,
            self.series.rows_before,
        )
        # Anyone who drew this series before the load must redraw it.
        self.hub.publish(messages.resync([self.spec.key]))
        self._next_reconcile = time.monotonic() + self.settings.reconcile_interval

    async def poll(self, conn: Conn) -> Batch | None:
        assert self.sql is not None
        newest = self.series.newest
        if newest is None:
            t, v = await read_rows(conn, self.sql.all_rows())
        else:
            t, v = await read_rows(conn, self.sql.rows_from(), dt_from_us(newest))
            # Rows at exactly `newest` may be ones we hold or ones committed since.
            k = int(np.searchsorted(t, newest, "right"))
            if k:
                have = self.series.values_at(newest)
                extra = _missing(_pairs((t[:k], v[:k])), ((newest, float(x)) for x in have.tolist()))
                et = np.array([r[0] for r in extra], dtype=np.int64)
                ev = np.array([r[1] for r in extra], dtype=np.float64)
                t, v = np.concatenate((et, t[k:])), np.concatenate((ev, v[k:]))
        return self._merge(t, v)

    async def reconcile(self, conn: Conn) -> Batch | None:
        """Find rows inserted behind the newest one, minute by minute."""
        assert self.sql is not None
        series = self.series
        newest = series.newest
        if newest is None:
            return None
        lo = (newest - int(self.settings.reconcile_horizon * 1_000_000)) // MINUTE_US * MINUTE_US
        if series.covered_from is not None:
            lo = max(lo, -(-series.covered_from // MINUTE_US) * MINUTE_US)
        hi = newest
        if lo >= hi:
            return None
        records = await conn.fetch(self.sql.minute_counts(), dt_from_us(lo), dt_from_us(hi))
        db_counts = {int(r["minute"]): int(r["n"]) for r in records}
        i0, i1 = series.bounds(lo, hi - 1)
        minutes, counts = np.unique(series.t[i0:i1] // MINUTE_US, return_counts=True)
        store_counts = dict(zip(minutes.tolist(), counts.tolist(), strict=False))
        differing = sorted(m for m in db_counts.keys() | store_counts.keys() if db_counts.get(m) != store_counts.get(m))
        new: list[tuple[int, float]] = []
        for minute in differing[:_MAX_MINUTES_PER_ROUND]:
            a, b = minute * MINUTE_US, min((minute + 1) * MINUTE_US, hi)
            db_rows = await read_rows(conn, self.sql.rows_between(end_inclusive=False), dt_from_us(a), dt_from_us(b))
            j0, j1 = series.bounds(a, b - 1)
            if db_rows[0].size < j1 - j0 and not self._warned_deleted:
                self._warned_deleted = True
                log.warning("series %s: rows were deleted from the table; the store keeps them", self.spec.key)
            new.extend(_missing(_pairs(db_rows), _pairs((series.t[j0:j1], series.v[j0:j1]))))
        if not new:
            return None
        log.info("series %s: reconciliation found %d late rows", self.spec.key, len(new))
        t = np.array([r[0] for r in new], dtype=np.int64)
        v = np.array([r[1] for r in new], dtype=np.float64)
        return self._merge(t, v)

    def _merge(self, t: I64, v: F64) -> Batch | None:
        # Merge and publish with no await in between: a subscribing client
        # sees these rows either in its replay or in this message, never both.
        batch = self.series.merge(t, v)
        if batch is None:
            return None
        self.hub.publish(messages.append(self.spec.key, batch.t, batch.v, seq=batch.seq, late=batch.late, replay=False))
        return batch


def _sorted(rows: Rows) -> Rows:
    """Sort a heap-order read by time; historian tables are nearly always in order already."""
    t, v = rows
    if t.size < 2 or bool(np.all(t[1:] >= t[:-1])):
        return rows
    order = np.argsort(t, kind="stable")
    return t[order], v[order]
