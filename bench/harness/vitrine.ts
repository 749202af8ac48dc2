import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CLI } from "../../test/helpers/server.js";
import { freePort, waitForHttp } from "../../test/helpers/net.js";

export interface VitrineUnderTest {
  url: string;
  /** host:port of the plaintext gRPC listener. */
  grpcAddress: string;
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
  const grpcPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      CLI,
      "serve",
      "--data-dir",
      dataDir,
      "--listen",
      `127.0.0.1:${port}`,
      "--grpc-listen",
      `127.0.0.1:${grpcPort}`,
      // Metrics are collected as in production; the listener on a free port.
      "--metrics-listen",
      "127.0.0.1:0",
      "--log-level",
      "warn",
    ],
    { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child, 30_000, () => "vitrine did not start");
  return {
    url,
    grpcAddress: `127.0.0.1:${grpcPort}`,
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
