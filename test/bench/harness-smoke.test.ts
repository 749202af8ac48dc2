import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { tempDir } from "../helpers/server.js";

const run = promisify(execFile);

/**
 * The benchmark is not run by the tests (its figures are not assertions), but its harness is:
 * every scenario on tiny sizes, so it cannot rot. Checks that each scenario produced a finite
 * figure and that the JSON table was written.
 */
test("npm run bench -- --smoke: every scenario runs and the table is written as JSON", async () => {
  const out = tempDir("bench-out");
  await run(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--out", out], {
    maxBuffer: 16 << 20,
    timeout: 300_000,
  });
  const files = fs.readdirSync(out).filter((f) => f.endsWith(".json"));
  assert.equal(files.length, 1);
  const result = JSON.parse(fs.readFileSync(path.join(out, files[0]!), "utf8"));
  assert.equal(result.smoke, true);
  const scenarios = new Set(result.rows.map((r: { scenario: string }) => r.scenario.split(" ")[0]));
  for (const s of [
    "hash",
    "1.",
    "2.",
    "3.",
    "4.",
    "4g.",
    "5.",
    "5g.",
    "5m.",
    "6.",
    "7.",
    "9.",
    "10.",
    "13.",
    "14.",
  ])
    assert.ok(scenarios.has(s), `scenario ${s} missing`);
  for (const row of result.rows) {
    assert.ok(
      Number.isFinite(row.figure) && row.figure > 0,
      `${row.scenario} / ${row.subject}: ${row.figure}`,
    );
    if (row.reference) assert.ok(Number.isFinite(row.ratio), `${row.scenario}: ratio`);
  }
});
