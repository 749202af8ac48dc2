import type { ChildProcess } from "node:child_process";
import net from "node:net";

/** A loopback port nothing listens on right now (for servers that must be told their port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Waits until `url` answers 2xx while `child` (the server being started) runs; throws with
 * `explain()` when it exits first or `timeoutMs` passes.
 */
export async function waitForHttp(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  explain: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(explain());
    await new Promise((r) => setTimeout(r, 100));
  }
}
