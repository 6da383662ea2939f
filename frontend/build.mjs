// Bundles src/main.ts (and uPlot, with its CSS) into ../realtime/static and
// copies the Jinja2 templates to ../realtime/templates. Run via `npm run build`.
//
// Output names carry a content hash (app-XXXXXXXX.js), so the server can let
// browsers cache them for a year; manifest.json maps the plain names to them
// for the templates. Each script and style also gets a gzip twin (.gz) that the
// server sends to browsers that accept it, so nothing is compressed per request.
// Source maps only with --dev (or --watch): they would publish the sources.
import { build, context } from "esbuild";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, "..", "realtime", "static");
const templateDir = join(here, "..", "realtime", "templates");
const watch = process.argv.includes("--watch");
const dev = watch || process.argv.includes("--dev");

await rm(staticDir, { recursive: true, force: true });
await mkdir(staticDir, { recursive: true });
await mkdir(templateDir, { recursive: true });

/** Writes manifest.json and the .gz twins from esbuild's metafile. */
async function finish(metafile) {
  const manifest = {};
  for (const [out, info] of Object.entries(metafile.outputs)) {
    if (!info.entryPoint && !info.cssBundle && !out.endsWith(".css")) continue;
    if (out.endsWith(".map")) continue;
    const name = basename(out);
    // app-HASH.js → app.js; the CSS that main.ts imports is named after its entry too.
    manifest[name.replace(/-[A-Z0-9]+(\.\w+)$/, "$1")] = name;
    const file = join(staticDir, name);
    const gz = gzipSync(await readFile(file), { level: constants.Z_BEST_COMPRESSION });
    await writeFile(`${file}.gz`, gz);
  }
  await writeFile(join(staticDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

const options = {
  absWorkingDir: here,
  // Entry names: app.js and app.css (main.ts imports the CSS), and signin.css for
  // the sign-in page, which runs no script; each with its content hash.
  entryPoints: { app: "src/main.ts", signin: "src/signin.css" },
  entryNames: "[name]-[hash]",
  outdir: staticDir,
  bundle: true,
  minify: true,
  sourcemap: dev,
  metafile: true,
  format: "iife",
  target: "es2022",
  // uPlot's MIT notice is a plain comment that minifying drops: keep it as a banner.
  banner: {
    js: "/*! Includes uPlot (c) Leon Sorokin, MIT License, https://github.com/leeoniya/uPlot */",
    css: "/*! Includes uPlot styles (c) Leon Sorokin, MIT License */",
  },
  legalComments: "eof",
  logLevel: "info",
  plugins: [
    {
      name: "manifest",
      setup(b) {
        b.onEnd(async (result) => {
          if (result.metafile) await finish(result.metafile);
        });
      },
    },
  ],
};

for (const name of await readdir(join(here, "templates"))) {
  if (name.endsWith(".html")) await copyFile(join(here, "templates", name), join(templateDir, name));
}
if (watch) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
