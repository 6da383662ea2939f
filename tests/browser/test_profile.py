"""The dashboard on data shaped like a real run: last year's 6-hour batch with
NULLs, duplicate timestamps and a missing table, the way a plant database looks
when an engineer reviews an old run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect

from realtime.config import PgSettings
from tests.browser.helpers import backfill_db, canvas_has_ink, open_dashboard, plant_server, to_ms
from tests.support.pg import PgServer, TestDb, create_schema, run
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

RUN_END = datetime(2025, 6, 12, 14, 0, 0)


@pytest.fixture(scope="module")
def old_run(pg_admin: PgSettings, pg_server: PgServer) -> Iterator[tuple[TestDb, LiveServer]]:
    db: TestDb = run(create_schema(pg_admin, pg_server))
    run(backfill_db(db, 6.0, RUN_END))
    # What real historians hold besides clean rows: NULL values, a repeated
    # instant, and a table that is not there at all.
    t = RUN_END - timedelta(minutes=30)
    run(db.insert("ph", [(t, None), (t + timedelta(seconds=1), 7.1), (t + timedelta(seconds=1), 7.2)]))
    run(db.drop_table("pressure"))
    with plant_server(db) as server:
        yield db, server


def test_old_run_opens_on_its_last_hour_and_flags_the_missing_table(
    browser: Browser, old_run: tuple[TestDb, LiveServer]
) -> None:
    _, server = old_run
    with open_dashboard(browser, server) as v:
        newest = max(v.dash(f"lastT('{k}')") for k in ("temperature", "ph", "do"))
        assert newest <= to_ms(RUN_END)
        assert newest > to_ms(RUN_END - timedelta(seconds=30))
        start, end = v.window
        assert end == newest
        assert end - start == 3_600_000
        for key in ("temperature", "ph", "do"):
            assert v.dash(f"points('{key}')") > 100
            assert canvas_has_ink(v.page, key), f"{key} drew nothing"
        expect(v.page.get_by_test_id("chart-pressure")).to_contain_text("not found")
        # Months-old data is stale, and the tiles say so.
        expect(v.page.get_by_test_id("tile-temperature")).to_have_class(re.compile(r"\bis-stale\b"))
        expect(v.page.get_by_test_id("tile-temperature")).to_contain_text("No data for")
        expect(v.page.get_by_test_id("tile-pressure")).to_contain_text("Table not found")
        # The whole run, from its first row.
        v.page.get_by_test_id("preset-all").click()
        v.page.wait_for_function(
            f"() => window.__dashboard.window.start <= {to_ms(RUN_END - timedelta(hours=5, minutes=59))}"
        )
        assert v.window[1] == newest
