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

/**
 * A TCP proxy on loopback that forwards to `target` (an http://host:port URL) and lets the
 * client's bytes through at `bytesPerSecond`: an upload that stays in flight for seconds, as over
 * a slow link. Answers come back at full speed. `forwarded` counts what reached the target.
 */
export async function startSlowProxy(
  target: string,
  bytesPerSecond: number,
): Promise<{ url: string; forwarded(): number; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  let forwarded = 0;
  const proxy = await startLoopbackProxy(
    () => net.connect(Number(port), hostname),
    (client, upstream) => {
      const tick = 50;
      const perTick = Math.max(1, Math.floor((bytesPerSecond * tick) / 1000));
      let queue: Buffer[] = [];
      client.on("data", (chunk: Buffer) => {
        queue.push(chunk);
        if (queue.length > 4) client.pause();
      });
      const timer = setInterval(() => {
        let budget = perTick;
        while (budget > 0 && queue.length > 0) {
          const head = queue[0]!;
          const part = head.subarray(0, budget);
          upstream.write(part);
          forwarded += part.length;
          budget -= part.length;
          if (part.length === head.length) queue.shift();
          else queue[0] = head.subarray(part.length);
        }
        if (queue.length <= 4) client.resume();
      }, tick);
      upstream.pipe(client);
      return () => {
        clearInterval(timer);
        queue = [];
      };
    },
  );
  return { ...proxy, forwarded: () => forwarded };
}

/**
 * A TCP server on loopback that opens an upstream connection per client (`connect`) and lets
 * `wire` carry the bytes between them; when either side ends, both do (and `wire`'s cleanup
 * runs). Closing it closes every connection.
 */
async function startLoopbackProxy(
  connect: () => net.Socket,
  wire: (client: net.Socket, upstream: net.Socket) => (() => void) | void,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = connect();
    sockets.add(client).add(upstream);
    const cleanup = wire(client, upstream);
    const end = () => {
      cleanup?.();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Sends `request` as raw bytes (anything, valid HTTP or not) to the server at `url` and returns
 * everything it answered until it closed the connection ("" if it closed without a word). Fails
 * when nothing closes the connection within `timeoutMs`.
 */
export function rawHttp(url: string, request: string | Buffer, timeoutMs = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    socket.on("error", () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer, connection still open after ${timeoutMs} ms: ${answer.slice(0, 200)}`));
    }, timeoutMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

/**
 * A TCP proxy on loopback that counts the bytes clients send through it, and whose target can
 * change (a server restarted on another port): what a client sent in all, across restarts.
 */
export async function startCountingProxy(
  target: string,
): Promise<{ url: string; sent(): number; retarget(url: string): void; close(): Promise<void> }> {
  let { hostname, port } = new URL(target);
  let sent = 0;
  const proxy = await startLoopbackProxy(
    () => net.connect(Number(port), hostname),
    (client, upstream) => {
      client.on("data", (chunk: Buffer) => (sent += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
    },
  );
  return { ...proxy, sent: () => sent, retarget: (url) => ({ hostname, port } = new URL(url)) };
}
