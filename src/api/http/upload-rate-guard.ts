import type { IncomingMessage } from "node:http";

/** The slowest upload accepted: a rate in bytes a second, enforced once the grace period is over. */
export interface MinUploadRate {
  bytesPerSecond: number;
  graceMs: number;
}

/**
 * Watches an upload's body and calls `cut` when it arrives slower than `rate`: after the grace
 * period, the bytes of the last grace period must average at least the rate. The idle timeout
 * ends a silent connection; this ends one that trickles (a few bytes a second, never idle), which
 * would otherwise hold its connection, its upload slot and its image for ever. Returns a stop
 * function (call it when the upload ends either way). A rate of 0 turns the guard off.
 */
export function guardUploadRate(
  body: IncomingMessage,
  rate: MinUploadRate,
  cut: (why: string) => void,
): () => void {
  if (rate.bytesPerSecond <= 0) return () => undefined;
  const stepMs = Math.max(100, Math.min(1000, rate.graceMs / 10));
  // Bytes received per step, for the last grace period.
  const steps = Math.max(1, Math.round(rate.graceMs / stepMs));
  const window: number[] = [];
  let current = 0;
  const onData = (chunk: Buffer) => (current += chunk.length);
  body.on("data", onData);
  const timer = setInterval(() => {
    window.push(current);
    current = 0;
    if (window.length > steps) window.shift();
    // Until the window holds a whole grace period, the upload is in its grace period.
    if (window.length < steps) return;
    const bytes = window.reduce((a, b) => a + b, 0);
    const seconds = (window.length * stepMs) / 1000;
    if (bytes < rate.bytesPerSecond * seconds) {
      stop();
      cut(
        `the upload arrived at ${Math.round(bytes / seconds)} bytes/s over the last ${seconds} s, ` +
          `below the minimum of ${rate.bytesPerSecond} bytes/s`,
      );
    }
  }, stepMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    body.off("data", onData);
  };
  return stop;
}
