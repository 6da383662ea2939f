"""Reference pages for ``bench.firstview``: what any page costs here, measured beside the dashboard.

- **blank:** a page with no script: what Chromium itself needs to show something.
- **bare uPlot:** uPlot from the same npm package, one fetch of the very ``/api/data``
  response the dashboard received, four charts drawn from it and nothing else. No
  dashboard that draws four uPlot charts from fetched data can be faster than this.

Both are served as static files by a threaded ``http.server``, and report being drawn
the way the dashboard does (``window.__dashboard`` ready, a canvas per chart), so one
watcher times all three.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

UPLOT = Path(__file__).resolve().parent.parent / "frontend" / "node_modules" / "uplot" / "dist"

# Four empty canvases where the charts would be: the watcher's test passes as soon as the page runs.
_BLANK = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>blank</title></head>
<body>CANVASES<script>window.__dashboard = {ready: true, loading: false};</script></body></html>
"""

_BARE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bare uPlot</title>
<link rel="stylesheet" href="uPlot.min.css">
<script src="uPlot.iife.min.js" defer></script><script src="bare.js" defer></script>
</head><body style="margin:0"><div id="charts"></div></body></html>
"""

# Four charts the size of the dashboard's, drawn from the batch; ready after the fourth draw.
_BARE_JS = """const KEYS = KEYS_JSON;
fetch("data.json").then((r) => r.json()).then((batch) => {
  const root = document.getElementById("charts");
  const width = root.clientWidth;
  const height = Math.floor((innerHeight - 200) / KEYS.length);
  let drawn = 0;
  for (const key of KEYS) {
    const el = document.createElement("div");
    el.dataset.testid = `chart-${key}`;
    root.append(el);
    const s = batch.series[key];
    const opts = {
      width, height, ms: 1, legend: {show: false},
      series: [{}, {stroke: "#2f7de1", width: 1.75}],
      hooks: {draw: [() => { if (++drawn === KEYS.length) window.__dashboard = {ready: true, loading: false}; }]},
    };
    new uPlot(opts, [s.t, s.v], el);
  }
});
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def reference_pages(batch: bytes, keys: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Serves the blank and bare-uPlot pages; yields their URLs by name."""
    if not (UPLOT / "uPlot.iife.min.js").exists():
        raise SystemExit(f"bench.floorpage: error: uPlot is missing at {UPLOT}: run scripts/install")
    with TemporaryDirectory(prefix="rt-floor-") as tmp:
        root = Path(tmp)
        for name in ("uPlot.iife.min.js", "uPlot.min.css"):
            shutil.copy(UPLOT / name, root / name)
        canvases = "".join(f'<div data-testid="chart-{k}"><canvas width="1" height="1"></canvas></div>' for k in keys)
        (root / "blank.html").write_text(_BLANK.replace("CANVASES", canvases))
        (root / "bare.html").write_text(_BARE)
        (root / "bare.js").write_text(_BARE_JS.replace("KEYS_JSON", json.dumps(list(keys))))
        (root / "data.json").write_bytes(batch)
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=tmp))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            base = f"http://127.0.0.1:{server.server_address[1]}"
            yield {"blank": f"{base}/blank.html", "bare uPlot": f"{base}/bare.html"}
        finally:
            server.shutdown()
            server.server_close()
