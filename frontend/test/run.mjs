// Compiles test/*.test.ts with esbuild into a temp dir and runs them with
// node's built-in test runner (no test framework dependency).
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tests = (await readdir(here)).filter((f) => f.endsWith(".test.ts"));
const out = await mkdtemp(join(tmpdir(), "frontend-test-"));
try {
  await build({
    entryPoints: tests.map((f) => join(here, f)),
    outdir: out,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    packages: "external",
    logLevel: "warning",
  });
  const files = tests.map((f) => join(out, f.replace(/\.ts$/, ".mjs")));
  const res = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit", cwd: join(here, "..") });
  process.exitCode = res.status ?? 1;
} finally {
  await rm(out, { recursive: true, force: true });
}
