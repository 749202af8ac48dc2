import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import pino from "pino";
import { type AppDeps, buildHttpApp } from "../../src/api/http/app.js";
import { Authenticator } from "../../src/auth/authenticator.js";
import { ADMIN_TOKEN_FILE, ensureAdminToken } from "../../src/auth/bootstrap.js";
import { FailedAuthLimiter } from "../../src/auth/failure-limiter.js";
import { SubjectAdmin } from "../../src/auth/subjects.js";
import { type Config, loadConfig } from "../../src/config.js";
import type { Core } from "../../src/core/core.js";
import type { CreateImageInput } from "../../src/core/images/create-image.js";
import type { RegisterImageInput } from "../../src/core/images/register-image.js";
import type { Operation } from "../../src/core/operation.js";
import type { ServiceCatalog } from "../../src/storage/meta/sql-catalog.js";
import type { Principal } from "../../src/core/principal.js";
import { assemble, eventPublisher } from "../../src/main.js";
import { AuditTrail } from "../../src/observability/audit-trail.js";
import type { EventPublisher } from "../../src/events/event-publisher.js";
import type { OperationEngine } from "../../src/worker/operation-engine.js";
import { storeSetFor } from "../../src/storage/stores-for-config.js";
import type { StoreSet } from "../../src/storage/blob/store-set.js";
import { openSqliteCatalog } from "../../src/storage/meta/open-catalog.js";
import { tempDir } from "./server.js";

/** The core with its real stores and workers in this process: SQLite in memory, blobs in a temp dir. */
export interface InProcess {
  /** The configuration the core was assembled with (from the env given). */
  config: Config;
  core: Core;
  catalog: ServiceCatalog;
  /** Every store (VITRINE_STORES given in `env` adds more beside the data directory's). */
  blobs: StoreSet;
  engine: OperationEngine;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * `workers: false` leaves queued operations queued (the engine answers cancels but runs nothing),
 * for tests that change the catalog before a worker gets to it (see `startWorker`).
 */
export async function startInProcess(
  env: Record<string, string> = {},
  opts: { workers?: boolean } = {},
): Promise<InProcess> {
  const dataDir = tempDir("core");
  const config = loadConfig({ dataDir }, { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1", ...env });
  const catalog = await openSqliteCatalog(":memory:", { events: config.events.enabled });
  const blobs = await storeSetFor(config);
  const { core, engine } = assemble(
    { ...config, operations: { ...config.operations, pollMs: 20, leaseMs: 2000 } },
    catalog,
    blobs,
    pino({ level: "silent" }),
    "in-process",
  );
  if (opts.workers !== false) engine.start();
  return {
    core,
    catalog,
    blobs,
    engine,
    dataDir,
    config,
    close: async () => {
      await engine.stop();
      await catalog.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Another node's workers on the same stores, started (stop them before `close`). */
export function startWorker(env: InProcess, nodeId: string): OperationEngine {
  const { engine } = assemble(
    { ...env.config, operations: { ...env.config.operations, pollMs: 20, leaseMs: 2000 } },
    env.catalog,
    env.blobs,
    pino({ level: "silent" }),
    nodeId,
  );
  engine.start();
  return engine;
}

/** Callers of the use cases: the service admin, and a folder editor/viewer. */
export const ADMIN: Principal = {
  subjectId: "admin",
  subjectType: "userAccount",
  isAdmin: true,
  projectId: "admin",
  folderRoles: {},
};

export function member(
  subjectId: string,
  folderId: string,
  role: "viewer" | "editor" | "admin" = "editor",
): Principal {
  return {
    subjectId,
    subjectType: "userAccount",
    isAdmin: false,
    projectId: folderId,
    folderRoles: { [folderId]: [role] },
  };
}

/** A registration (OpenStack `POST /v2/images`) in `folderId` with the defaults the tests start from. */
export function registration(folderId: string, fields: Partial<RegisterImageInput> = {}): RegisterImageInput {
  return {
    uuid: null,
    uniqueName: true,
    folderId,
    name: "",
    visibility: "private",
    protected: false,
    osHidden: false,
    tags: [],
    properties: {},
    diskFormat: "qcow2",
    containerFormat: "bare",
    minRam: 0,
    minDiskSize: 0,
    osType: "LINUX",
    ...fields,
  };
}

/** A Compute create in folder f1 from `uri`, with the defaults the tests start from. */
export function creation(uri: string, fields: Partial<CreateImageInput> = {}): CreateImageInput {
  return {
    kind: "compute",
    folderId: "f1",
    name: "",
    description: "",
    labels: {},
    family: "",
    minDiskSize: 0,
    productIds: null,
    osType: null,
    pooled: false,
    hardwareGeneration: null,
    source: { type: "uri", uri },
    operationDescription: "Create image",
    idempotencyKey: null,
    ...fields,
  };
}

/** Waits until the operation is done and returns it. */
export async function settled(
  core: Core,
  principal: Principal,
  op: Operation,
  timeoutMs = 20_000,
): Promise<Operation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await core.operations.get(principal, op.id);
    if (current.done) return current;
    if (Date.now() > deadline) throw new Error(`operation ${op.id} did not finish`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The HTTP edge (every dialect) over an in-process core: `app.inject()` instead of a spawned server. */
export interface InProcessHttp extends InProcess {
  app: FastifyInstance;
  /** The audit trail the edge records to (its stream: audit.log in the data directory). */
  audit: AuditTrail;
  /** The outbox's publisher (webhooks; notifications when VITRINE_NOTIFICATIONS_URL is given). */
  publisher: EventPublisher | null;
  /** A token for a new subject holding `role` on `folder`, scoped to that folder as its project. */
  token(subject: string, folder: string, role?: "viewer" | "editor" | "admin"): Promise<string>;
  /** The bootstrap admin's token (the service admin; project `admin`). */
  adminToken(): Promise<string>;
  /** A request as a client sends it, with the token as a bearer token. */
  call(
    token: string,
    method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  /** The operation, polled over `GET /operations/{id}` with `token` until it is done. */
  done(token: string, op: { id: string }, timeoutMs?: number): Promise<any>;
}

export async function startInProcessHttp(
  env: Record<string, string> = {},
  deps: Partial<AppDeps> = {},
): Promise<InProcessHttp> {
  const inProcess = await startInProcess(env);
  const { config } = inProcess;
  const silent = pino({ level: "silent" });
  const audit = new AuditTrail(inProcess.catalog.auditLog, path.join(inProcess.dataDir, "audit.log"), silent);
  const publisher = eventPublisher(config, inProcess.catalog, "in-process", silent);
  publisher?.start();
  const app = buildHttpApp({
    log: pino({ level: "silent" }),
    core: inProcess.core,
    auth: new Authenticator({
      tokens: inProcess.catalog.tokens,
      bindings: inProcess.catalog.bindings,
      adminProject: "admin",
      keystone: null,
      limiter: new FailedAuthLimiter(20, 60_000),
      cacheMs: 0,
    }),
    maxRequestBodyBytes: 1024 * 1024,
    idleTimeoutMs: 0,
    maxImageBytes: 1024 ** 3,
    publicUrl: null,
    openstackProfile: config.openstackProfile,
    minUploadRate: config.minUploadRate,
    checkResponses: true,
    audit,
    ...deps,
  });
  const subjects = new SubjectAdmin(inProcess.catalog);
  return {
    ...inProcess,
    app,
    audit,
    publisher,
    token: async (subject, folder, role = "editor") => {
      const id = await subjects.createSubject(subject, "userAccount");
      await subjects.bindFolder(folder, id, role);
      return subjects.createToken(id, { ttlMs: null, projectId: folder });
    },
    adminToken: async () => {
      await ensureAdminToken(inProcess.catalog, inProcess.dataDir, pino({ level: "silent" }));
      return fs.readFileSync(path.join(inProcess.dataDir, ADMIN_TOKEN_FILE), "utf8").trim();
    },
    call: (token, method, url, body, headers = {}) =>
      app.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(method === "PATCH" && url.startsWith("/v2/")
            ? { "content-type": "application/openstack-images-v2.1-json-patch" }
            : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    done: async (token, op, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const polled = (
          await app.inject({
            method: "GET",
            url: `/operations/${op.id}`,
            headers: { authorization: `Bearer ${token}` },
          })
        ).json();
        if (polled.done) return polled;
        if (Date.now() > deadline) throw new Error(`operation ${op.id} did not end`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {
      await app.close();
      await publisher?.stop();
      await audit.close();
      await inProcess.close();
    },
  };
}

/** An OpenStack image registered over HTTP (queued, bare container); its UUID. */
export async function osImage(
  env: InProcessHttp,
  token: string,
  name: string,
  diskFormat = "raw",
): Promise<string> {
  const res = await env.call(token, "POST", "/v2/images", {
    name,
    disk_format: diskFormat,
    container_format: "bare",
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}
