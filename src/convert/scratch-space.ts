import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { VitrineError } from "../core/errors.js";
import { isProcessAlive } from "../process-alive.js";

/** A directory a conversion works in, and the bytes it holds of the scratch space. */
export interface Scratch {
  dir: string;
  release(): Promise<void>;
}

/**
 * The local disk space conversions work in (qemu-img needs random access, so the data cannot
 * just stream). Each conversion holds, before it starts, the most it may write; together they
 * stay under the configured limit and under what the filesystem has free. Directories are named
 * after the process that made them, so the next start of the node (or any node on this host)
 * removes what a killed one left, and stops the qemu-img it may have left running.
 */
export class ScratchSpace {
  private held = 0;

  constructor(
    readonly root: string,
    /** The most bytes held at once; 0: only what the filesystem has free. */
    private readonly limitBytes: number,
  ) {}

  /** Removes the directories of processes that are gone; returns their names. */
  async sweep(): Promise<string[]> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    const removed: string[] = [];
    for (const name of await fsp.readdir(this.root)) {
      const pid = Number(name.split("-")[0]);
      if (isProcessAlive(pid) && pid !== 0) continue;
      const dir = path.join(this.root, name);
      await stopProcessesIn(dir);
      await fsp.rm(dir, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Holds `bytes` for the work named `name`, or refuses with what is missing. */
  async hold(name: string, bytes: number): Promise<Scratch> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    const stats = await fsp.statfs(this.root);
    const free = stats.bavail * stats.bsize;
    // What running conversions hold is theirs, whether written yet or not: on the free space too,
    // or two that start together would each count the same free bytes.
    const available = Math.min(free, this.limitBytes > 0 ? this.limitBytes : Infinity) - this.held;
    if (bytes > available) {
      throw new VitrineError(
        "RESOURCE_EXHAUSTED",
        `The conversion needs ${bytes} bytes of scratch space and ${Math.max(0, available)} are available; retry later or raise VITRINE_CONVERSION_SCRATCH_LIMIT`,
      ).because("SCRATCH_FULL", { needed: String(bytes), available: String(Math.max(0, available)) });
    }
    this.held += bytes;
    const dir = path.join(this.root, `${process.pid}-${name.replace(/[^A-Za-z0-9_.-]/g, "_")}`);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { mode: 0o700 });
    let released = false;
    return {
      dir,
      release: async () => {
        if (released) return;
        released = true;
        this.held -= bytes;
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Kills the processes working in `dir` (a qemu-img whose node was killed keeps running otherwise). */
async function stopProcessesIn(dir: string): Promise<void> {
  let pids: string[];
  try {
    pids = (await fsp.readdir("/proc")).filter((p) => /^\d+$/.test(p));
  } catch {
    return; // no /proc: nothing to look at
  }
  for (const pid of pids) {
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`) || cwd === `${dir} (deleted)`)
        process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone, or not ours to look at
    }
  }
}
