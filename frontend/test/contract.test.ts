// The browser's types (src/types.ts) against the contract's JSON Schemas (realtime/schema/, the
// files the server's answers are checked against in tests/test_contract.py): json-schema-to-typescript
// turns the schemas into TypeScript in a temp dir, and tsc checks that each hand-written type and
// its generated twin are assignable both ways.
//   server -> browser: whatever the server sends is a value of the browser's type;
//   browser -> server: the browser's type holds every field the server sends, typed no wider.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";

// npm runs the tests in frontend/; this file is bundled into a temp dir first, so no import.meta.
const frontend = process.cwd();
const schemaDir = resolve(frontend, "..", "realtime", "schema");
const typesFile = join(frontend, "src", "types.ts");
// Loaded from frontend/node_modules, wherever the bundle runs.
const load = createRequire(join(frontend, "package.json"));

const WS_TYPES = ["hello", "append", "status", "resync", "heartbeat", "error"];
const SCHEMAS = ["series-info", "series-data", "series-data-batch", "series-stats", "boot", "ws-message", ...WS_TYPES.map((t) => `ws-${t}`)];

// [what, generated type, hand-written type]
const PAIRS: [string, string, string][] = [
  ["GET /api/series item", 'G["series-info"]', "H.SeriesInfo"],
  ["GET /api/series/{key}/data", 'G["series-data"]', "H.SeriesData"],
  ["GET /api/data", 'G["series-data-batch"]', "H.SeriesDataBatch"],
  ["GET /api/series/{key}/stats", 'G["series-stats"]', "H.SeriesStats"],
  ["the page's boot JSON", 'G["boot"]', "H.Boot"],
  ...WS_TYPES.map((t): [string, string, string] => [`ws ${t}`, `G["ws-${t}"]`, `Extract<H.ServerMessage, { type: "${t}" }>`]),
  ["ws append (AppendMessage)", 'G["ws-append"]', "H.AppendMessage"],
  ["ws any message", 'G["ws-message"]', "H.ServerMessage"],
];
const DIRECTIONS = ["server -> browser", "browser -> server"] as const;

// Where src/types.ts may knowingly differ from the server (none today). An entry is a `todo`:
// reported, not failing the run, so a known drift can be recorded while it is fixed.
const KNOWN: Record<string, string> = {};

// One checking function per line, so each tsc error names its check by line number.
const lines = [
  'import type { Contract as G } from "./contract";',
  `import type * as H from ${JSON.stringify(typesFile.replace(/\.ts$/, ""))};`,
];
const checks: { name: string; line: number }[] = [];
for (const [what, generated, handWritten] of PAIRS) {
  for (const direction of DIRECTIONS) {
    const [from, to] = direction === "server -> browser" ? [generated, handWritten] : [handWritten, generated];
    lines.push(`export function check${checks.length}(x: ${from}): ${to} { return x; }`);
    checks.push({ name: `${what}: ${direction}`, line: lines.length });
  }
}
// A control: two different messages must not pass, or the check proves nothing.
lines.push('export function control(x: G["ws-hello"]): G["ws-error"] { return x; }');
const controlLine = lines.length;

describe("src/types.ts against the contract's schemas", () => {
  const errors = new Map<number, string[]>();
  let dir = "";

  before(async () => {
    assert.ok(existsSync(typesFile), `run from frontend/ (npm test): ${typesFile} not found`);
    const { compile } = load("json-schema-to-typescript") as typeof import("json-schema-to-typescript");
    const root: import("json-schema-to-typescript").JSONSchema = {
      title: "Contract",
      type: "object",
      properties: Object.fromEntries(SCHEMAS.map((name) => [name, { $ref: `${name}.json` }])),
      required: SCHEMAS,
      additionalProperties: false,
    };
    dir = await mkdtemp(join(tmpdir(), "contract-"));
    const generated = await compile(root, "Contract", { cwd: schemaDir, bannerComment: "", format: false });
    await writeFile(join(dir, "contract.ts"), generated);
    await writeFile(join(dir, "check.ts"), lines.join("\n") + "\n");
    const compilerOptions = {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "bundler",
      lib: ["ES2022", "DOM"],
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      verbatimModuleSyntax: true,
    };
    await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["check.ts"] }));
    const tsc = spawnSync(join(frontend, "node_modules", ".bin", "tsc"), ["-p", dir, "--pretty", "false"], {
      encoding: "utf8",
    });
    // "check.ts(12,40): error TS2322: ...", then indented detail lines.
    let last: string[] | null = null;
    for (const text of (tsc.stdout + tsc.stderr).split("\n")) {
      const head = /^(.*)\((\d+),\d+\): error (.*)$/.exec(text);
      if (head) {
        const line = head[1]?.endsWith("check.ts") ? Number(head[2]) : 0;
        last = errors.get(line) ?? [];
        last.push(head[3] ?? text);
        errors.set(line, last);
      } else if (text.trim() && last) {
        last.push(text.trim());
      }
    }
    assert.ok(tsc.status !== null, `tsc did not run: ${tsc.error?.message ?? ""}`);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const { name, line } of checks) {
    it(name, { todo: KNOWN[name] ?? false }, () => {
      const found = errors.get(line);
      if (found) assert.fail(`src/types.ts disagrees with the schema:\n  ${found.join("\n  ")}`);
    });
  }

  it("catches a mismatch (control)", () => {
    assert.ok(errors.has(controlLine), "hello passed for error: the check is not checking");
  });

  it("compiles apart from the checks (the schemas, the generated code, types.ts)", () => {
    const checked = new Set([...checks.map((c) => c.line), controlLine]);
    const stray = [...errors].filter(([line]) => !checked.has(line)).flatMap(([, found]) => found);
    assert.deepEqual(stray, []);
  });
});
