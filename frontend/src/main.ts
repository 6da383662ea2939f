// Entry point: reads the server's bootstrap JSON and starts the dashboard.

import "uplot/dist/uPlot.min.css";
import "./style.css";

import { Dashboard } from "./dashboard";
import type { Boot } from "./types";

function readBoot(): Boot {
  const el = document.getElementById("boot");
  const raw = el?.textContent?.trim();
  if (!raw) throw new Error("the page has no bootstrap data (#boot)");
  return JSON.parse(raw) as Boot;
}

function main(): void {
  const boot = readBoot();
  const dashboard = new Dashboard(boot);
  dashboard.start().catch((err: unknown) => {
    const banner = document.getElementById("banner");
    if (banner) {
      banner.className = "banner is-error";
      banner.textContent = `The dashboard failed to start: ${err instanceof Error ? err.message : String(err)}`;
      banner.hidden = false;
    }
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
