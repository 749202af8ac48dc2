import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { codecFor } from "../../src/api/grpc/codec.js";
import { tempDir } from "./server.js";

/** A self-signed certificate for localhost and 127.0.0.1, made by openssl as the README shows. */
export function selfSignedCertificate(): { cert: string; key: string } {
  const dir = tempDir("tls");
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

export interface RawReply {
  /** The gRPC status code (0: OK). */
  code: number;
  message: string;
  /** The response message as a proto3 JSON document (on success). */
  response: Record<string, unknown> | null;
  /** google.rpc.Status decoded from grpc-status-details-bin (on failure), with its Any details. */
  status: Record<string, unknown> | null;
  headers: grpc.Metadata | null;
  trailers: grpc.Metadata | null;
}

/**
 * A client of the project's own definitions, below the SDK: it sees what the SDK hides (fields its
 * release lacks, the error details' bytes, initial metadata) and can send what the SDK cannot
 * (no credentials, undecodable bytes, oversized messages).
 */
export function rawCall(
  address: string,
  method: string,
  request: Record<string, unknown> | Buffer,
  opts: {
    token?: string | null;
    rootCert?: string;
    metadata?: Record<string, string>;
    responseType: string;
    requestType?: string;
  },
): Promise<RawReply> {
  const creds = opts.rootCert
    ? grpc.credentials.createSsl(fs.readFileSync(opts.rootCert))
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(address, creds);
  const metadata = new grpc.Metadata();
  if (opts.token) metadata.set("authorization", `Bearer ${opts.token}`);
  for (const [k, v] of Object.entries(opts.metadata ?? {})) metadata.set(k, v);
  const requestCodec = opts.requestType ? codecFor(opts.requestType) : null;
  const responseCodec = codecFor(opts.responseType);
  const statusCodec = codecFor("google.rpc.Status");
  return new Promise((resolve) => {
    let headers: grpc.Metadata | null = null;
    const call = client.makeUnaryRequest(
      method,
      (doc: Record<string, unknown> | Buffer) => (Buffer.isBuffer(doc) ? doc : requestCodec!.encode(doc)),
      (bytes: Buffer) => responseCodec.decode(bytes),
      request,
      metadata,
      (err, response) => {
        client.close();
        const details = err?.metadata.get("grpc-status-details-bin")[0];
        resolve({
          code: err?.code ?? 0,
          message: err?.details ?? "",
          response: (response as Record<string, unknown> | undefined) ?? null,
          status: details ? statusCodec.decode(Buffer.from(details)) : null,
          headers,
          trailers: err?.metadata ?? null,
        });
      },
    );
    call.on("metadata", (m) => (headers = m));
  });
}
