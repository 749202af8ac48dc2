import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { backendEnv } from "./test-backend.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "bin", "vitrine.js");

export interface RunningServer {
  url: string;
  /** host:port of the gRPC listener ("off" when the test turned it off). */
  grpcAddress: string;
  /** The metrics listener's URL (`…/metrics`), once logged: by the service, or by a cluster's primary. */
  metricsUrl(): string;
  /** What the server wrote to stderr so far (nothing, normally: logs go to stdout). */
  stderr(): string;
  token: string;
  dataDir: string;
  /** What the server was started with besides the data directory (the backend's settings). */
  env: Record<string, string>;
  child: ChildProcess;
  /** Everything the server logged, one parsed JSON object per line. */
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  request(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vitrine-${prefix}-`));
}

/**
 * Starts the real `vitrine serve` (the built CLI) on a free loopback port and waits until it
 * listens. Tests talk HTTP to it exactly as users do.
 */
export async function startServer(
  opts: { dataDir?: string; env?: Record<string, string> } = {},
): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? tempDir("data");
  // Every answer is checked against its declared shape (src/api/http/response-shapes.ts).
  const env = {
    VITRINE_OPERATION_POLL_MS: "100",
    VITRINE_CHECK_RESPONSES: "true",
    ...(await backendEnv(dataDir)),
    ...opts.env,
  };
  const child = spawn(
    process.execPath,
    [
      CLI,
      "serve",
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--grpc-listen",
      "127.0.0.1:0",
      "--metrics-listen",
      "127.0.0.1:0",
      "--log-level",
      "debug",
    ],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  let grpcAddress = "";
  let metricsUrl = "";
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (typeof entry.metrics === "string" && entry.metrics.startsWith("http"))
            metricsUrl = entry.metrics;
          if (String(entry.msg).startsWith("vitrine listening")) {
            clearTimeout(timer);
            grpcAddress = String(entry.grpc);
            resolve(String(entry.url));
          }
        } catch {
          // not a log line
        }
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
  const token = fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
  const server: RunningServer = {
    url,
    grpcAddress,
    metricsUrl: () => metricsUrl,
    stderr: () => stderr,
    token,
    dataDir,
    env,
    child,
    logs,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill(signal);
      }),
    request: (method, urlPath, body, headers = {}) => apiRequest(url, token, method, urlPath, body, headers),
  };
  return server;
}

export async function apiRequest(
  base: string,
  token: string | null,
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const h: Record<string, string> = { ...headers };
  if (token !== null && !("authorization" in h)) h.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const res = await fetch(base + urlPath, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Polls an operation until it is done (or the deadline passes) and returns it. */
export async function waitOperation(server: RunningServer, id: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await server.request("GET", `/operations/${id}`);
    if (res.status !== 200) throw new Error(`GET operation ${id}: ${res.status} ${res.text}`);
    if (res.body.done) return res.body;
    if (Date.now() > deadline) throw new Error(`operation ${id} not done after ${timeoutMs} ms: ${res.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until `check` returns a truthy value. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The uncommitted blob files (`.pending/`) a data directory holds. */
export function pendingBlobFiles(dataDir: string): string[] {
  return fs.readdirSync(path.join(dataDir, "blobs", ".pending"));
}

/** How many committed and pending blob files a data directory holds. */
export function blobFiles(dataDir: string): { committed: number; pending: number } {
  const entries = fs
    .readdirSync(path.join(dataDir, "blobs"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== ".store-id");
  const pending = entries.filter((e) => e.parentPath.endsWith(".pending")).length;
  return { committed: entries.length - pending, pending };
}
