// Entry point: reads the server's bootstrap JSON and starts the dashboard.

import "uplot/dist/uPlot.min.css";
import "./style.css";

import { Banner } from "./banner";
import { Dashboard } from "./dashboard";
import type { Boot } from "./types";

function readBoot(): Boot {
  const raw = document.getElementById("boot")?.textContent?.trim();
  if (!raw) throw new Error("the page has no bootstrap data (#boot)");
  return JSON.parse(raw) as Boot;
}

/** A start-up failure is shown on the page, not only in the console. */
function fail(err: unknown): void {
  const el = document.getElementById("banner");
  const text = err instanceof Error ? err.message : String(err);
  if (el) new Banner(el).show("error", `The dashboard failed to start: ${text}`);
}

function main(): void {
  try {
    new Dashboard(readBoot()).start().catch(fail);
  } catch (err) {
    fail(err);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
