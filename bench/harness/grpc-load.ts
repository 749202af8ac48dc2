import * as grpc from "@grpc/grpc-js";
import { codecFor } from "../../src/api/grpc/codec.js";
import { percentile } from "./measure.js";

/**
 * A small gRPC load generator (no packaged ghz here): `concurrency` calls in flight on one channel
 * (HTTP/2 streams, as the SDK makes them) for `seconds`, in its own process so it does not share
 * the benchmark's event loop. Prints {"rps", "p50Ms", "p99Ms", "errors"} as JSON.
 *
 *   node --import tsx bench/harness/grpc-load.ts ADDRESS METHOD REQUEST_TYPE RESPONSE_TYPE REQUEST_JSON TOKEN CONCURRENCY SECONDS
 */
const [address, method, requestType, responseType, requestJson, token, concurrency, seconds] =
  process.argv.slice(2);
const request = codecFor(requestType!);
const response = codecFor(responseType!);
const body = request.encode(JSON.parse(requestJson!) as Record<string, unknown>);
const client = new grpc.Client(address!, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${token}`);

const once = () =>
  new Promise<boolean>((resolve) =>
    client.makeUnaryRequest(
      method!,
      (b: Buffer) => b,
      (bytes: Buffer) => response.decode(bytes),
      body,
      metadata,
      (err) => resolve(!err),
    ),
  );

// Warm up (connection, JIT, the server's caches), then measure.
for (let i = 0; i < 200; i++) await once();
const samples: number[] = [];
let errors = 0;
const until = performance.now() + Number(seconds) * 1000;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      if (!(await once())) errors++;
      samples.push(performance.now() - t);
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
client.close();
console.log(
  JSON.stringify({
    rps: samples.length / elapsed,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    errors,
  }),
);
