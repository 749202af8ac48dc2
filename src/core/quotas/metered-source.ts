import { type Readable, Transform, pipeline } from "node:stream";
import { isVitrineError } from "../errors.js";

/**
 * How much more a stream past its reservation asks for at a time (one locked decision each): as
 * much as it holds already, between 1 MiB and 64 MiB. Small streams hold little beyond their
 * size (concurrent ones share what is left fairly); big ones ask rarely.
 */
const MIN_STEP_BYTES = 1024 * 1024;
const MAX_STEP_BYTES = 64 * 1024 * 1024;

/**
 * The source's bytes, holding quota for them as they come: past what is reserved, the
 * reservation grows (a step at a time, or by what is left under the limit when a step does not
 * fit) before the bytes go on; when nothing is left the stream fails with the quota's error, so
 * the ingest stops and keeps nothing. A source that announced its length stays within its
 * reservation and never asks.
 */
export function meteredSource(
  source: Readable,
  reserved: number,
  grow: (bytes: number) => Promise<void>,
): Readable {
  let held = reserved;
  let seen = 0;
  const growTo = async (needed: number): Promise<void> => {
    const wanted = needed + Math.min(Math.max(held, MIN_STEP_BYTES), MAX_STEP_BYTES);
    try {
      await grow(wanted);
      held = wanted;
    } catch (err) {
      if (!isVitrineError(err) || err.reason !== "QUOTA_EXCEEDED") throw err;
      // What is left under the limit may still cover these bytes: hold exactly that.
      const left = Number(err.args.limit) - Number(err.args.usage);
      if (held + left < needed) throw err;
      await grow(held + left);
      held += left;
    }
  };
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen <= held) return done(null, chunk);
      growTo(seen).then(
        () => done(null, chunk),
        (err: unknown) => done(err as Error),
      );
    },
  });
  return pipeline(source, meter, () => {});
}
