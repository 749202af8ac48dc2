import { spawn, spawnSync } from "node:child_process";
import { VitrineError } from "../core/errors.js";

/** The bounds every qemu-img run works under (as Nova runs it under prlimit). */
export interface QemuImgLimits {
  cpuSeconds: number;
  /** Address space, in bytes. */
  memoryBytes: number;
}

/**
 * Runs `qemu-img args` in `cwd` under prlimit (CPU time, address space), killed on `signal`.
 * With `-p` among the args its progress is reported as a fraction. Resolves on exit 0; otherwise
 * rejects with qemu-img's last words (never the server's paths: the caller words the error).
 */
export function runQemuImg(
  args: string[],
  opts: { cwd: string; limits: QemuImgLimits; signal: AbortSignal; onProgress?: (fraction: number) => void },
): Promise<void> {
  const { limits, signal } = opts;
  const prlimit = [`--cpu=${limits.cpuSeconds}`, `--as=${limits.memoryBytes}`, "--", "qemu-img", ...args];
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    // glibc reserves up to 64 MiB of address space per thread arena (8 per core): with qemu-img's
    // I/O threads that alone can pass the limit, failing thread creation at random. Two arenas
    // keep the address space what qemu-img uses, not what malloc might.
    const child = spawn("prlimit", prlimit, {
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, MALLOC_ARENA_MAX: "2" },
    });
    const abort = (): void => void child.kill("SIGKILL");
    signal.addEventListener("abort", abort, { once: true });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    child.stdout.on("data", (d: Buffer) => {
      // qemu-img -p writes "    (12.34/100%)\r" as it goes.
      const matches = [...d.toString().matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = matches.at(-1);
      if (last && opts.onProgress) opts.onProgress(Math.min(1, Number(last[1]) / 100));
    });
    child.once("error", (err: NodeJS.ErrnoException) => {
      signal.removeEventListener("abort", abort);
      reject(
        err.code === "ENOENT"
          ? new VitrineError(
              "FAILED_PRECONDITION",
              "Conversion needs prlimit (Debian util-linux) and qemu-img (Debian qemu-utils) on the worker",
            ).because("TOOL_MISSING", { tool: "qemu-img" })
          : err,
      );
    });
    child.once("close", (code, sig) => {
      signal.removeEventListener("abort", abort);
      if (signal.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else reject(new QemuImgFailed(failureOf(code, sig, stderr)));
    });
  });
}

/** qemu-img ended with an error: the message is its own last words, or what stopped it. */
export class QemuImgFailed extends Error {}

function failureOf(code: number | null, signalName: NodeJS.Signals | null, stderr: string): string {
  const detail = lastLine(stderr);
  // prlimit's own words when the command is not there (127 alone is also a library that could
  // not be loaded, under a tight address-space limit: its words say so).
  if (/failed to execute qemu-img/.test(detail)) return "qemu-img is not installed (Debian qemu-utils)";
  if (signalName === "SIGXCPU" || signalName === "SIGKILL") return "qemu-img went past its CPU time limit";
  return detail || `qemu-img ended with ${code ?? signalName}`;
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ""
  ).replace(/^qemu-img:\s*/, "");
}

/** At start, when conversion is configured: the tools it runs are there (a clear refusal, not failed imports later). */
export function assertQemuImg(): void {
  for (const [command, pkg] of [
    ["qemu-img", "qemu-utils"],
    ["prlimit", "util-linux"],
  ] as const) {
    if (spawnSync(command, ["--version"], { stdio: "ignore" }).error) {
      throw new Error(`VITRINE_CONVERT_TO needs ${command} on every worker: apt-get install ${pkg}`);
    }
  }
}
