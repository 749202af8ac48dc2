import type { FastifyInstance } from "fastify";

/**
 * About how long one event-loop turn may spend on requests before it lets I/O in again. Measured
 * on 2 cores (64 connections): 2 ms gave the list p99 105 ms (8 ms: 270 ms; unbounded: 1.2 s) and
 * GET of one image 13.5k req/s, p99 9 ms (unbounded: 11.6k, p99 16 ms).
 */
const TURN_MS = 2;

/**
 * Requests go on in the order they arrived, a bounded amount of work per event-loop turn. Why:
 * Node accepts one new connection per turn (libuv 1.46; strace shows one accept4 per epoll_wait)
 * and goes on with every request read in a turn. Under 64 busy connections a turn ran 64 list
 * requests (about 100 ms of work): new connections waited in the accept queue (33 of 64 at first,
 * taken one every 60 ms), so their first answers came after up to two seconds, and the list's
 * p99 was 1 s at a p50 of 80 ms. Held here (the first hook: before authentication and the
 * handler) and let go a few per turn, every request waits its turn once and connections are
 * accepted between turns.
 *
 * How many a turn lets go follows what requests cost lately (the time from one turn to the next,
 * I/O included, over the requests let go): GETs of one image go dozens a turn, lists a handful.
 */
export function useFairTurns(app: FastifyInstance): void {
  app.addHook("onRequest", (_request, _reply, done) => inTurn(done));
}

/**
 * The process's one queue: HTTP requests and gRPC calls (api/grpc/server.ts) take turns together,
 * since they share the event loop (and gRPC's 64 streams on one connection were served as
 * unevenly as 64 HTTP connections).
 */
export const inTurn = fairTurns();

/** A queue of work let go `room` at a time, one batch per event-loop turn (see useFairTurns). */
export function fairTurns(): (go: () => void) => void {
  const queue: ((() => void) | undefined)[] = [];
  let head = 0;
  let scheduled = false;
  /** Milliseconds a request took lately (moving average), I/O between turns included. */
  let cost = 0.1;
  let previous: { at: number; let: number } | null = null;

  const turn = () => {
    const now = performance.now();
    // What the last batch cost, measured one turn later (its work and the I/O after it).
    if (previous) cost = 0.8 * cost + 0.2 * ((now - previous.at) / previous.let);
    previous = null;
    const room = Math.max(1, Math.floor(TURN_MS / cost));
    let released = 0;
    while (released < room && head < queue.length) {
      const go = queue[head]!;
      queue[head++] = undefined;
      released++;
      go();
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    }
    if (released === 0) {
      scheduled = false;
      return;
    }
    previous = { at: now, let: released };
    setImmediate(turn);
  };

  return (go) => {
    queue.push(go);
    if (!scheduled) {
      scheduled = true;
      setImmediate(turn);
    }
  };
}
