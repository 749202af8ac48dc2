import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** p-th percentile (0–100) of samples, nearest rank. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

export const MB = 1_000_000;

/**
 * Single-core hash speed by `openssl speed -evp <alg>`, in MB/s (16 KiB blocks), the figure the
 * upload's hashing is measured against.
 */
export function opensslSpeed(alg: "md5" | "sha512", seconds: number): number {
  const out = execFileSync("openssl", ["speed", "-evp", alg, "-seconds", String(seconds)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const line = out.split("\n").find((l) => l.startsWith(alg));
  const last = line?.trim().split(/\s+/).pop();
  if (!last?.endsWith("k")) throw new Error(`cannot read openssl speed output:\n${out}`);
  return (Number(last.slice(0, -1)) * 1000) / MB;
}

/** Streams a file to `url` with curl (PUT); returns MB/s over the whole request. */
export async function curlUpload(
  url: string,
  file: string,
  headers: Record<string, string>,
  method = "PUT",
): Promise<number> {
  const args = ["-sS", "-f", "-X", method, "-T", file, "-o", "/dev/null", "-w", "%{time_total}"];
  for (const [k, v] of Object.entries({ "content-type": "application/octet-stream", ...headers })) {
    args.push("-H", `${k}: ${v}`);
  }
  const { stdout } = await run("curl", [...args, url], { maxBuffer: 1 << 20 });
  return fs.statSync(file).size / MB / Number(stdout);
}

/** Downloads `url` with curl into /dev/null; returns MB/s. */
export async function curlDownload(url: string, headers: Record<string, string>): Promise<number> {
  const args = ["-sS", "-f", "-o", "/dev/null", "-w", "%{size_download} %{time_total}"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  const { stdout } = await run("curl", [...args, url]);
  const [bytes, seconds] = stdout.trim().split(" ").map(Number);
  return bytes! / MB / seconds!;
}

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses other than 2xx/3xx: a run with errors measured the wrong thing. */
  errors: number;
}

/** Runs wrk with --latency against `url`; `script` is an optional Lua file (e.g. a POST body). */
export async function wrk(
  url: string,
  opts: { connections: number; seconds: number; headers?: Record<string, string>; script?: string },
): Promise<WrkResult> {
  const threads = Math.min(2, opts.connections);
  const args = ["-t", String(threads), "-c", String(opts.connections), "-d", `${opts.seconds}s`, "--latency"];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (opts.script) args.push("-s", opts.script);
  const { stdout } = await run("wrk", [...args, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const lat = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(stdout)?.[1]);
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  if (!Number.isFinite(rps)) throw new Error(`cannot read wrk output:\n${stdout}`);
  return { rps, p50Ms: lat("50"), p99Ms: lat("99"), errors };
}

function toMs(v: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v ?? "");
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

/**
 * A Lua script for wrk that sends every request as a POST of `body` with `headers`. With
 * `uniqueName`, each request's `name` is made unique (thread and counter): names are one image
 * each in a folder (the ims profile), as in real use.
 */
export function wrkPostScript(
  file: string,
  body: Record<string, unknown>,
  headers: Record<string, string>,
  { uniqueName = false }: { uniqueName?: boolean } = {},
): string {
  const lines = ['wrk.method = "POST"'];
  for (const [k, v] of Object.entries(headers))
    lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  if (uniqueName) {
    // `<name>-<thread>-<n>`: unique within the script; give each run its own `name`.
    const [before, after] = JSON.stringify({ ...body, name: `${String(body.name)}-\u0000` }).split("\\u0000");
    lines.push(
      "local threads = 0",
      "function setup(thread) threads = threads + 1; thread:set('tid', threads) end",
      "local n = 0",
      "function request()",
      "  n = n + 1",
      `  return wrk.format(nil, nil, nil, ${JSON.stringify(before)} .. (tid or 0) .. "-" .. n .. ${JSON.stringify(after)})`,
      "end",
    );
  } else {
    lines.push(`wrk.body = ${JSON.stringify(JSON.stringify(body))}`);
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return (kb * 1024) / MB;
}

/** p50/p99 in ms of `n` sequential calls of `call`. */
export async function latency(n: number, call: () => Promise<void>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(20, n); i++) await call(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await call();
    samples.push(performance.now() - s);
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Runs bench/harness/grpc-load.ts in its own process: unary calls of one method under `concurrency` streams. */
export async function grpcLoad(
  address: string,
  call: { method: string; requestType: string; responseType: string; request: Record<string, unknown> },
  opts: { token: string; concurrency: number; seconds: number },
): Promise<WrkResult> {
  const { stdout } = await run(process.execPath, [
    "--import",
    "tsx",
    path.join(import.meta.dirname, "grpc-load.ts"),
    address,
    call.method,
    call.requestType,
    call.responseType,
    JSON.stringify(call.request),
    opts.token,
    String(opts.concurrency),
    String(opts.seconds),
  ]);
  return JSON.parse(stdout) as WrkResult;
}
