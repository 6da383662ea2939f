"""One poller per table: load once, then fetch only unseen rows.

Three ways rows can arrive, and how each is caught:

* newer than the newest stored row: ``time >= newest`` every poll;
* at the newest timestamp, committed after a row with that timestamp was
  seen: the same query returns every row at ``newest``, and the multiset
  difference against the stored ones is what is new;
* older (store-and-forward backfill): reconciliation compares row counts per
  time bucket with the store and reads only the buckets that differ: every
  few seconds over the last hour, every few minutes over everything
  (see :mod:`realtime.reconcile`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import numpy as np
from asyncpg.pool import PoolConnectionProxy

from realtime import messages
from realtime.config import Settings
from realtime.db import Conn, SeriesSql, TableMissing, TableUnusable, classify, probe_table, read_rows
from realtime.health import DbHealth
from realtime.hub import Hub
from realtime.reconcile import find_late_rows, missing, pairs
from realtime.rows import F64, I64, Rows
from realtime.series import SeriesSpec
from realtime.store import Batch, SeriesData, SeriesState
from realtime.times import dt_from_us, us_from_dt

__all__ = ["Poller"]

log = logging.getLogger(__name__)

_RETRY_MISSING = 5.0


async def _release(pool: asyncpg.Pool, conn: PoolConnectionProxy[Any]) -> None:
    """Give a connection back; one broken mid-query fails its reset and is closed by the pool."""
    try:
        await pool.release(conn)
    except Exception as exc:  # the round's own error, if any, was reported already
        log.debug("a broken connection was closed: %s", exc)


class Poller:
    def __init__(
        self,
        spec: SeriesSpec,
        settings: Settings,
        pool: asyncpg.Pool,
        series: SeriesData,
        hub: Hub,
        health: DbHealth,
        *,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.pool = pool
        self.series = series
        self.hub = hub
        self.health = health
        self.sql: SeriesSql | None = None
        self._next_reconcile = 0.0
        self._next_sweep = 0.0
        self._warned_deleted = False
        # Where each round's duration goes (the app's metrics).
        self.observe = observe

    async def run(self) -> None:
        """Poll forever; every outcome is reported, none ends the loop."""
        while True:
            await self.health.turn()
            started = time.perf_counter()
            delay = await self._round()
            if self.observe is not None:
                self.observe(time.perf_counter() - started)
            self.series.round_done()
            self.hub.round_done()
            await asyncio.sleep(delay)

    async def _round(self) -> float:
        """One poll (or load); returns the seconds until the next."""
        interval = self.settings.poll_interval
        before = self.series.state
        started = time.monotonic()
        try:
            conn = await self.pool.acquire()
        except Exception as exc:
            self.health.failed(exc, classify(exc, connecting=True) or "refused")
            return interval  # health.turn() holds the next attempt until its retry time
        try:
            await self.step(conn)
        except Exception as exc:
            kind = classify(exc)
            if kind is not None:
                # The connection is broken: close it rather than have the pool reset it,
                # which would issue a query on it while its failed operation is pending.
                conn.terminate()
                self.health.failed(exc, kind)
                return interval
            self.health.succeeded(started)  # the database answered; this table is the trouble
            return self._series_failed(exc)
        finally:
            await _release(self.pool, conn)
        self.health.succeeded(started)
        self.series.settle()
        # A load or the first rows change the state too, not only a recovery: one line for each change.
        if (state := self.series.state) != before:
            log.info(
                "series %s: %s (was %s)", self.spec.key, state, before, extra={"series": self.spec.key, "state": state}
            )
        # Every poller wakes on the same clock tick, so the hub sends one frame per tick.
        return interval - time.time() % interval

    def _series_failed(self, exc: Exception) -> float:
        if isinstance(exc, TableMissing):
            self._mark("missing", str(exc))
        elif isinstance(exc, asyncpg.UndefinedTableError):
            # Dropped while we watched: keep what we have, look for it again.
            self.sql = None
            self.series.unload()
            self._mark("missing", str(exc))
        elif isinstance(exc, (asyncpg.PostgresError, TableUnusable)):
            # Reachable but refusing, e.g. no SELECT privilege, or wrong columns.
            self._mark("error", str(exc).splitlines()[0])
        else:
            # A poller must never die: that would stop this series for good.
            if self.series.error != str(exc):
                log.error("series %s: unexpected error while polling", self.spec.key)
            self._mark("error", str(exc) or type(exc).__name__)
        return max(self.settings.poll_interval, _RETRY_MISSING)

    def _mark(self, state: SeriesState, error: str) -> None:
        if self.series.mark(state, error):
            log.warning(
                "series %s: %s: %s", self.spec.key, state, error, extra={"series": self.spec.key, "state": state}
            )

    async def step(self, conn: Conn) -> None:
        if self.sql is None or not self.series.loaded:
            await self.load(conn)
            return
        await self.poll(conn)
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.settings.sweep_interval
            self._next_reconcile = now + self.settings.reconcile_interval
            await self.reconcile(conn, sweep=True)
        elif now >= self._next_reconcile:
            self._next_reconcile = now + self.settings.reconcile_interval
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
        self._next_sweep = time.monotonic() + self.settings.sweep_interval

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
                extra = missing(pairs((t[:k], v[:k])), ((newest, float(x)) for x in have.tolist()))
                et = np.array([r[0] for r in extra], dtype=np.int64)
                ev = np.array([r[1] for r in extra], dtype=np.float64)
                t, v = np.concatenate((et, t[k:])), np.concatenate((ev, v[k:]))
        return self._merge(t, v)

    async def reconcile(self, conn: Conn, *, sweep: bool = False) -> Batch | None:
        """Merge rows written behind the newest one (see :mod:`realtime.reconcile`)."""
        assert self.sql is not None
        horizon = round(self.settings.reconcile_horizon * 1_000_000)
        new, deleted = await find_late_rows(conn, self.sql, self.series, horizon_us=horizon, sweep=sweep)
        if deleted and not self._warned_deleted:
            self._warned_deleted = True
            log.warning("series %s: rows were deleted from the table; the store keeps them", self.spec.key)
        if not new:
            return None
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
