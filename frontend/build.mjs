// Bundles src/main.ts (and uPlot, with its CSS) into ../realtime/static and
// copies the Jinja2 templates to ../realtime/templates. Run via `npm run build`.
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, "..", "realtime", "static");
const templateDir = join(here, "..", "realtime", "templates");
const watch = process.argv.includes("--watch");

await rm(staticDir, { recursive: true, force: true });
await mkdir(staticDir, { recursive: true });
await mkdir(templateDir, { recursive: true });

const options = {
  absWorkingDir: here,
  // Entry names fix the output names: app.js and app.css (main.ts imports the CSS),
  // and signin.css for the sign-in page, which runs no script.
  entryPoints: { app: "src/main.ts", signin: "src/signin.css" },
  outdir: staticDir,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: "es2022",
  // uPlot's MIT notice is a plain comment that minifying drops: keep it as a banner.
  banner: {
    js: "/*! Includes uPlot (c) Leon Sorokin, MIT License, https://github.com/leeoniya/uPlot */",
    css: "/*! Includes uPlot styles (c) Leon Sorokin, MIT License */",
  },
  legalComments: "eof",
  logLevel: "info",
};

if (watch) {
  const { context } = await import("esbuild");
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
for (const name of await readdir(join(here, "templates"))) {
  if (name.endsWith(".html")) await copyFile(join(here, "templates", name), join(templateDir, name));
}
