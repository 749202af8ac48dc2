import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { codecFor } from "../../src/api/grpc/codec.js";

/** The yardsticks measured in the same run: plain Node servers doing the least the job needs. */
export interface ReferenceServer {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/**
 * The plain Node yardstick (bench/harness/reference-server.ts) in its own process: PUT /upload
 * writes without hashing, GET /file streams `file`, GET /json answers `json`.
 */
export async function startReferenceServer(
  dir: string,
  file: string,
  json: unknown,
): Promise<ReferenceServer> {
  const jsonFile = path.join(dir, "reference.json");
  fs.writeFileSync(jsonFile, JSON.stringify(json));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(import.meta.dirname, "reference-server.ts"), dir, file, jsonFile],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`reference server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    close: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once("exit", () => r());
        child.kill("SIGTERM");
      }),
  };
}

/**
 * The gRPC yardstick: a grpc-js server answering every call of one method with a fixed response
 * (the document Vitrine answered), encoded by the same codec, on a free loopback port. What the
 * load generator and grpc-js reach here is the ceiling of the gRPC figures on this machine.
 */
export async function startTrivialGrpcServer(
  method: { path: string; requestType: string; responseType: string },
  response: Record<string, unknown>,
): Promise<{ address: string; close(): Promise<void> }> {
  const request = codecFor(method.requestType);
  const reply = codecFor(method.responseType);
  const server = new grpc.Server();
  server.addService(
    {
      call: {
        path: method.path,
        requestStream: false,
        responseStream: false,
        requestDeserialize: (b: Buffer) => request.decode(b),
        requestSerialize: (d: Record<string, unknown>) => request.encode(d),
        responseSerialize: (d: Record<string, unknown>) => reply.encode(d),
        responseDeserialize: (b: Buffer) => reply.decode(b),
      },
    },
    { call: (_call: unknown, done: grpc.sendUnaryData<Record<string, unknown>>) => done(null, response) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
