import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CLI } from "../../test/helpers/server.js";
import { freePort } from "./glance.js";

export interface VitrineUnderTest {
  url: string;
  token: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `vitrine serve` as an operator runs it, logging at `warn` (request lines cost what they cost
 * in production too, but they are not what is measured); ready once /healthz answers.
 */
export async function startVitrine(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<VitrineUnderTest> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, "serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--log-level", "warn"],
    { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("vitrine did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    token: fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim(),
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
