import readline from "node:readline/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { type ByteProgress, byteProgress } from "../progress.js";
import type { ApiClient, Json } from "./api-client.js";
import { EXIT, OperationFailed } from "./exit-codes.js";

/** What an Operation carries beyond its id, as the REST API renders it. */
interface OperationJson extends Json {
  id: string;
  done?: boolean;
  error?: { message?: string };
  response?: Json;
  /** Vitrine's extension: an import's bytes read so far, of the total when known ("0": unknown). */
  progress?: { bytesDone?: string; bytesTotal?: string; stage?: string };
}

/**
 * Follows an operation until it is done, showing the server's progress of an import on a
 * terminal. Ctrl-C asks whether to cancel the operation (on a terminal) or leaves it running
 * (otherwise); either way the command ends with the interrupted exit code.
 */
export async function waitForOperation(
  client: ApiClient,
  started: Json,
  label: string,
): Promise<OperationJson> {
  let op = started as OperationJson;
  let bar: ByteProgress | null = null;
  let stage: string | undefined;
  let shownTotal: number | null = null;
  let interrupted = false;
  let asking = false;
  const onInterrupt = () => {
    if (asking) return;
    interrupted = true;
  };
  process.on("SIGINT", onInterrupt);
  try {
    let pause = 200;
    while (!op.done) {
      if (interrupted) {
        bar?.stop();
        bar = null;
        asking = true;
        const cancel = await askToCancel(op.id);
        asking = false;
        interrupted = false;
        if (cancel) {
          await client.json("POST", `/operations/${encodeURIComponent(op.id)}:cancel`);
          process.stderr.write(`operation ${op.id} cancelled\n`);
          process.exit(EXIT.interrupted);
        }
        if (cancel === null) {
          process.stderr.write(
            `operation ${op.id} keeps running on the service; \`vitrine operation cancel ${op.id}\` stops it\n`,
          );
          process.exit(EXIT.interrupted);
        }
      }
      await sleep(pause);
      pause = Math.min(pause * 1.5, 1000);
      op = await client.json<OperationJson>("GET", `/operations/${encodeURIComponent(op.id)}`);
      if (op.progress && (bar || !op.done)) {
        const total = Number(op.progress.bytesTotal ?? 0) || null;
        // A finished import read everything: the bar ends full, whatever the last poll saw.
        const done = op.done && !op.error && total ? total : Number(op.progress.bytesDone ?? 0);
        // A conversion is a stage of its own (README "Conversion and export"): a bar of its own.
        if (op.progress.stage !== stage) {
          // The stage before is over: its bar ends full, whatever the last poll saw.
          if (bar && shownTotal) bar.update(shownTotal, shownTotal);
          bar?.stop();
          bar = null;
          stage = op.progress.stage;
        }
        shownTotal = total;
        bar ??= byteProgress(stage ?? label, total);
        bar.update(done, total);
      }
    }
  } finally {
    bar?.stop();
    process.off("SIGINT", onInterrupt);
  }
  if (op.error) throw new OperationFailed(op.id, op.error.message ?? "unknown error");
  return op;
}

/**
 * true: cancel; false: keep waiting; null: leave it running and stop waiting (no terminal to ask
 * on, or a second Ctrl-C at the question).
 */
async function askToCancel(operationId: string): Promise<boolean | null> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return null;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const again = new AbortController();
  rl.once("SIGINT", () => again.abort());
  try {
    const answer = await rl.question(`\nCancel operation ${operationId}? [y/N] `, { signal: again.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch (err) {
    if (again.signal.aborted) {
      process.stderr.write("\n");
      return null;
    }
    throw err;
  } finally {
    rl.close();
  }
}

/** The resource a finished operation returned, without its Any type tag. */
export function responseOf(op: Json): Json {
  const { "@type": type, ...rest } = (op.response as Json | undefined) ?? {};
  // google.protobuf.Empty (a delete's): nothing to show.
  return type === "type.googleapis.com/google.protobuf.Empty" ? {} : rest;
}
