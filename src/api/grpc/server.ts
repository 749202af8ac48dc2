import { inTurn } from "../fair-turns.js";
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Authenticator } from "../../auth/authenticator.js";
import type { Core } from "../../core/core.js";
import { invalidArgument } from "../../core/errors.js";
import type { Principal } from "../../core/principal.js";
import type { AuditTrail } from "../../observability/audit-trail.js";
import { actingAs } from "../../observability/request-context.js";
import { bareMetalImageMethods } from "../baremetal/methods.js";
import { type CallContext, computeImageMethods } from "../compute/methods.js";
import { IMAGE_SERVICES } from "../image-services.js";
import { operationMethods } from "../operation/methods.js";
import { toYandexError } from "../yandex/errors.js";
import { usableIdempotencyKey } from "../yandex/plugin.js";
import { codecFor, protoRoot } from "./codec.js";
import { logWatchedRefusal } from "../../observability/refusals.js";
import { ResponseShapeError, ResponseShapes } from "../http/response-shapes.js";
import { RESPONSES } from "../yandex/responses.js";

type Json = Record<string, unknown>;
/** One RPC: the request message as a proto3 JSON document in, the response document out. */
type Method = (principal: Principal, request: Json, ctx: CallContext) => Promise<Json>;

export interface GrpcServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** PEM certificate chain and key; null serves plaintext (loopback, or behind a TLS proxy). */
  tls: { cert: Buffer; key: Buffer } | null;
  core: Core;
  auth: Authenticator;
  log: Logger;
  /** The largest request message accepted, in bytes (larger ones: RESOURCE_EXHAUSTED). */
  maxMessageBytes: number;
  /** Told of every answered call (the metrics): its status code's name and how long it took. */
  onAnswered?: (service: string, method: string, code: string, seconds: number) => void;
  /** Where mutations and refusals are recorded (README "Events and audit"). */
  audit?: AuditTrail | null;
  /** Validate every answer against its declared shape (yandex/responses.ts), as REST does. */
  checkResponses?: boolean;
}

export interface GrpcServer {
  /** The port bound. */
  port: number;
  /** Stops taking calls and lets running ones finish. */
  close(): Promise<void>;
}

/** A request that could not be decoded: answered INVALID_ARGUMENT by the handler, not INTERNAL by gRPC. */
const UNDECODABLE = Symbol("undecodable");

/**
 * The Yandex-style services over gRPC: Compute and BareMetal ImageService and OperationService,
 * calling the same methods as REST (api/compute/methods.ts, ...) with the same authentication
 * and errors (google.rpc.Status with BadRequest and RequestInfo details in
 * `grpc-status-details-bin`; `x-request-id` and `x-server-trace-id` in the initial metadata,
 * where the official SDK reads them).
 */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": opts.maxMessageBytes,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
  });
  const compute = computeImageMethods(opts.core, IMAGE_SERVICES);
  const bareMetal = bareMetalImageMethods(opts.core, IMAGE_SERVICES);
  const operations = operationMethods(opts.core, IMAGE_SERVICES);
  const services: [string, Record<string, Method>, Set<string>][] = [
    ["yandex.cloud.compute.v1.ImageService", compute as unknown as Record<string, Method>, new Set(["Get"])],
    [
      "yandex.cloud.baremetal.v1alpha.ImageService",
      bareMetal as unknown as Record<string, Method>,
      new Set(),
    ],
    ["yandex.cloud.operation.OperationService", operations as unknown as Record<string, Method>, new Set()],
  ];
  const shapes = opts.checkResponses ? new ResponseShapes() : null;
  for (const [name, methods, anonymous] of services) {
    const checked = shapes ? checkedMethods(name, methods, shapes) : methods;
    const { definition, implementation } = serviceOf(name, checked, anonymous, opts);
    server.addService(definition, implementation);
  }
  const credentials = opts.tls
    ? grpc.ServerCredentials.createSsl(
        null,
        [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }],
        false,
      )
    : grpc.ServerCredentials.createInsecure();
  const host = opts.listen.host.includes(":") ? `[${opts.listen.host}]` : opts.listen.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.listen.port}`, credentials, (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Running calls get a few seconds; then they are cut (a client retries elsewhere).
        const force = setTimeout(() => server.forceShutdown(), 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

function serviceOf(
  name: string,
  methods: Record<string, Method>,
  anonymous: Set<string>,
  opts: GrpcServerOptions,
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const service = protoRoot().lookupService(name);
  const definition: Record<string, grpc.MethodDefinition<Json, Json>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const rpc of service.methodsArray) {
    const method = methods[rpc.name];
    if (!method) throw new Error(`no implementation for ${name}.${rpc.name}`);
    const request = codecFor(rpc.resolvedRequestType!.fullName.slice(1));
    const response = codecFor(rpc.resolvedResponseType!.fullName.slice(1));
    definition[rpc.name] = {
      path: `/${name}/${rpc.name}`,
      requestStream: false,
      responseStream: false,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return request.decode(bytes);
        } catch (err) {
          return { [UNDECODABLE]: err instanceof Error ? err.message : String(err) };
        }
      },
      requestSerialize: (doc: Json) => request.encode(doc),
      responseSerialize: (doc: Json) => response.encode(doc),
      responseDeserialize: (bytes: Buffer) => response.decode(bytes),
    };
    implementation[rpc.name] = unary(method, anonymous.has(rpc.name), opts, [name, rpc.name]);
  }
  return { definition, implementation };
}

/** The service's methods, each answer validated against the shape declared for its RPC. */
function checkedMethods(
  service: string,
  methods: Record<string, Method>,
  shapes: ResponseShapes,
): Record<string, Method> {
  const declared: Record<string, unknown> = RESPONSES[service as keyof typeof RESPONSES];
  const checked: Record<string, Method> = {};
  for (const [rpc, method] of Object.entries(methods)) {
    if (!declared?.[rpc])
      throw new Error(`${service}.${rpc} declares no response shape (yandex/responses.ts)`);
    const validate = shapes.compile(declared[rpc]);
    checked[rpc] = async (principal, request, ctx) => {
      const answer = await method(principal, request, ctx);
      if (!validate(answer)) throw new ResponseShapeError(`${service}.${rpc}`, "OK", validate.errors ?? []);
      return answer;
    };
  }
  return checked;
}

const STATUS = codecFor("google.rpc.Status");

function unary(
  method: Method,
  allowAnonymous: boolean,
  opts: GrpcServerOptions,
  [serviceName, methodName]: [string, string],
): grpc.handleUnaryCall<Json, Json> {
  // Calls take their turn with the HTTP requests (api/fair-turns.ts).
  return (call, callback) => inTurn(() => serve(call, callback));
  function serve(call: grpc.ServerUnaryCall<Json, Json>, callback: grpc.sendUnaryData<Json>): void {
    const requestId = randomUUID();
    const headers = new grpc.Metadata();
    headers.set("x-request-id", requestId);
    headers.set("x-server-trace-id", randomUUID());
    call.sendMetadata(headers);
    const started = process.hrtime.bigint();
    const arrived = Date.now();
    const done = (code: grpc.status, err?: unknown) => {
      const ms = elapsedMs(started);
      opts.onAnswered?.(serviceName, methodName, grpc.status[code] ?? String(code), ms / 1000);
      (err ? opts.log.error : opts.log.info).call(
        opts.log,
        { reqId: requestId, rpc: call.getPath(), code, ms, ...(err ? { err } : {}) },
        err ? "call failed" : "call completed",
      );
    };
    let caller: Principal | null = null;
    const answer = async () => {
      const undecodable = (call.request as Record<symbol, unknown>)[UNDECODABLE];
      if (undecodable !== undefined)
        throw invalidArgument(`The request message cannot be decoded: ${String(undecodable)}`);
      const principal = (caller = await opts.auth.authenticate(
        {
          headers: { authorization: first(call.metadata, "authorization") },
          ip: peerAddress(call.getPeer()),
        },
        { allowAnonymous },
      ));
      return method(principal, call.request, {
        idempotencyKey: usableIdempotencyKey(first(call.metadata, "idempotency-key")),
      });
    };
    const request = call.request as { imageId?: unknown; resourceId?: unknown; operationId?: unknown };
    const resource = request.imageId ?? request.resourceId ?? request.operationId;
    const audited = (code: grpc.status, reason: string | null) => {
      const refused = code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED;
      if (!opts.audit || (!refused && /^(Get|List)/.test(methodName))) return;
      opts.audit.record({
        at: arrived,
        requestId,
        subject: caller && !caller.anonymous ? caller.subjectId : null,
        project: caller?.projectId || null,
        dialect: "grpc",
        method: "RPC",
        action: `${serviceName}/${methodName}`,
        resource: typeof resource === "string" ? resource : null,
        decision: refused ? "denied" : code === grpc.status.OK ? "allowed" : "failed",
        status: code,
        reason,
        source: peerAddress(call.getPeer()),
      });
    };
    actingAs({ requestId, principal: () => caller ?? undefined }, answer).then(
      (result) => {
        callback(null, result);
        done(grpc.status.OK);
        audited(grpc.status.OK, null);
      },
      (err: unknown) => {
        const { body, internal } = toYandexError(err, requestId);
        audited(body.code, `${grpc.status[body.code] ?? body.code}: ${body.message}`.slice(0, 300));
        const image = request.imageId ?? request.resourceId;
        logWatchedRefusal(opts.log.child({ reqId: requestId, rpc: call.getPath() }), err, {
          subject: caller?.subjectId,
          folder: caller?.projectId,
          image: typeof image === "string" ? image : undefined,
        });
        const trailers = new grpc.Metadata();
        trailers.set("grpc-status-details-bin", STATUS.encode(body));
        callback({ code: body.code, details: body.message, metadata: trailers });
        done(body.code, internal ? err : undefined);
      },
    );
  }
}

function first(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : value?.toString("utf8");
}

/** "ipv4:127.0.0.1:5000" / "ipv6:[::1]:5000" → the address (the failed-authentication limit is per address). */
function peerAddress(peer: string): string {
  const m = /^(?:ipv[46]:)?\[?([^\]]*?)\]?:\d+$/.exec(peer);
  return m?.[1] ?? peer;
}

const elapsedMs = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e6;
