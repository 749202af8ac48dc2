import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import * as grpc from "@grpc/grpc-js";
import { codecFor } from "../../src/api/grpc/codec.js";

/** The yardsticks measured in the same run: plain Node servers doing the least the job needs. */
export interface ReferenceServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Three routes: PUT /upload writes the body to disk without hashing; GET /file streams `file`;
 * GET /json answers a fixed JSON body the size of an image document.
 */
export async function startReferenceServer(
  dir: string,
  file: string,
  json: unknown,
): Promise<ReferenceServer> {
  const body = Buffer.from(JSON.stringify(json));
  let n = 0;
  const server = http.createServer((req, res) => {
    if (req.method === "PUT" && req.url === "/upload") {
      const target = path.join(dir, `upload-${n++}`);
      pipeline(req, fs.createWriteStream(target)).then(
        () => {
          fs.rmSync(target, { force: true });
          res.writeHead(204).end();
        },
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.url === "/file") {
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": fs.statSync(file).size,
      });
      // The chunk size Vitrine reads blobs with: the default 64 KiB made this yardstick 4× slower.
      fs.createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res);
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
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
