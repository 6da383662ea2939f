"""Reading what a chart shows: the tooltip at a given time, the y axis, and its pixels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from playwright.sync_api import Page

from tests.browser.helpers import plot_box


@dataclass(frozen=True)
class Shown:
    value: str
    when: str


def x_of(page: Page, key: str, t: float) -> float:
    """The viewport x of time ``t`` (epoch ms) on a chart."""
    w = page.evaluate(f"() => window.__dashboard.chartWindow('{key}')")
    box = plot_box(page, key)
    return float(box["x"] + (t - w["start"]) / (w["end"] - w["start"]) * box["width"])


def hover(page: Page, key: str, t: float) -> dict[str, Shown]:
    """Moves the mouse to time ``t`` on a chart; returns every tooltip row by series name."""
    box = plot_box(page, key)
    page.mouse.move(1, 1)
    tip = page.locator(f'[data-testid="chart-{key}"] .tooltip')
    tip.wait_for(state="hidden")
    page.mouse.move(x_of(page, key, t), box["y"] + box["height"] / 2)
    tip.wait_for(state="visible", timeout=5_000)
    rows: list[dict[str, str]] = page.evaluate(
        """(key) => [...document.querySelectorAll(`[data-testid="chart-${key}"] .tooltip .tt-row`)].map((r) => ({
            name: r.querySelector('.tt-name').textContent,
            value: r.querySelector('.tt-value').textContent,
            when: r.querySelector('.tt-when').textContent,
        }))""",
        key,
    )
    return {r["name"]: Shown(r["value"], r["when"]) for r in rows}


def clock(t: datetime) -> str:
    """A sample time as the tooltip writes it: HH:MM:SS, with milliseconds when it has them."""
    ms = t.microsecond // 1000
    return t.strftime("%H:%M:%S") + (f".{ms:03d}" if ms else "")


def y_axis(page: Page, key: str) -> dict[str, Any]:
    """The y range a chart drew, its tick labels, edge markers and limit labels."""
    axis: dict[str, Any] = page.evaluate(f"() => window.__dashboard.yAxis('{key}')")
    return axis


def ink_in_column(page: Page, key: str, x: float, color_var: str) -> int:
    """Pixels in the colour of ``color_var`` in the canvas column at viewport x (a 3 px wide band)."""
    script = """([key, x, colorVar]) => {
        const probe = document.createElement('canvas').getContext('2d');
        probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(colorVar).trim();
        probe.fillRect(0, 0, 1, 1);
        const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
        const c = document.querySelector(`[data-testid="chart-${key}"] canvas`);
        const box = c.getBoundingClientRect();
        const scale = c.width / box.width;
        const cx = Math.round((x - box.left) * scale);
        const d = c.getContext('2d').getImageData(cx - 1, 0, 3, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 200 && Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40) n++;
        }
        return n;
    }"""
    return int(page.evaluate(script, [key, x, color_var]))


def ink_in_row(page: Page, key: str, y: float, color_var: str) -> int:
    """Pixels in the colour of ``color_var`` along the canvas row at viewport y (a 3 px high band)."""
    script = """([key, y, colorVar]) => {
        const probe = document.createElement('canvas').getContext('2d');
        probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(colorVar).trim();
        probe.fillRect(0, 0, 1, 1);
        const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
        const c = document.querySelector(`[data-testid="chart-${key}"] canvas`);
        const box = c.getBoundingClientRect();
        const scale = c.height / box.height;
        const cy = Math.round((y - box.top) * scale);
        const d = c.getContext('2d').getImageData(0, cy - 1, c.width, 3).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 200 && Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40) n++;
        }
        return n;
    }"""
    return int(page.evaluate(script, [key, y, color_var]))


def y_of(page: Page, key: str, value: float) -> float:
    """The viewport y of a value on a chart's y axis (from the range it drew)."""
    axis = y_axis(page, key)
    box = plot_box(page, key)
    frac = (value - axis["min"]) / (axis["max"] - axis["min"])
    return float(box["y"] + box["height"] * (1 - frac))


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``rgb(r, g, b)`` colours (computed styles)."""

    def lum(c: str) -> float:
        parts = [int(x) for x in c[c.index("(") + 1 : c.index(")")].replace(",", " ").split()[:3]]

        def lin(x: int) -> float:
            s = x / 255
            return s / 12.92 if s <= 0.03928 else float(((s + 0.055) / 1.055) ** 2.4)

        r, g, b = (lin(x) for x in parts)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def computed_color(page: Page, var: str) -> str:
    """A CSS colour variable of the current theme as the browser resolves it (``rgb(...)``)."""
    color: str = page.evaluate(
        """(v) => { const e = document.createElement('div'); e.style.color = `var(${v})`; document.body.append(e);
                   const c = getComputedStyle(e).color; e.remove(); return c; }""",
        var,
    )
    return color
