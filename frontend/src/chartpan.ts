// Shift+drag (or middle-drag) on a chart pans the window: the charts follow
// the mouse while dragging, and the window is committed on release.

import type uPlot from "uplot";

export function startPan(
  u: uPlot,
  e: MouseEvent,
  min0: number,
  max0: number,
  pan: (min: number, max: number, commit: boolean) => void,
): void {
  const x0 = e.clientX;
  const span = max0 - min0;
  const width = u.over.clientWidth || 1;
  let last: [number, number] | null = null;
  u.over.style.cursor = "grabbing";
  const move = (ev: MouseEvent) => {
    const dt = Math.round(((x0 - ev.clientX) / width) * span);
    last = [min0 + dt, min0 + dt + span];
    pan(last[0], last[1], false);
  };
  const up = () => {
    document.removeEventListener("mousemove", move);
    document.removeEventListener("mouseup", up);
    u.over.style.cursor = "";
    if (last) pan(last[0], last[1], true);
  };
  document.addEventListener("mousemove", move);
  document.addEventListener("mouseup", up);
}
