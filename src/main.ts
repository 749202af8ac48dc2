import { AppendingIngest } from "./ingest/resumable-ingest.js";
import { CatalogLimits } from "./core/quotas/catalog-limits.js";
import { KeystoneLimits } from "./auth/keystone-limits.js";
import cluster from "node:cluster";
import fs from "node:fs";
import { hostname } from "node:os";
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { AggregatorRegistry } from "prom-client";
import { type GrpcServer, startGrpcServer } from "./api/grpc/server.js";
import { buildHttpApp } from "./api/http/app.js";
import { Authenticator } from "./auth/authenticator.js";
import path from "node:path";
import { ADMIN_TOKEN_FILE, ensureAdminToken } from "./auth/bootstrap.js";
import { FailedAuthLimiter } from "./auth/failure-limiter.js";
import { KeystoneTokenValidator } from "./auth/keystone.js";
import type { Config } from "./config.js";
import { type Core, buildCore, buildRunners } from "./core/core.js";
import type { ServiceCatalog } from "./storage/meta/sql-catalog.js";
import { ingest } from "./ingest/pipeline.js";
import { decompressing } from "./ingest/decompress.js";
import { QemuImgConverter } from "./convert/qemu-img-converter.js";
import { ScratchSpace } from "./convert/scratch-space.js";
import { assertQemuImg } from "./convert/qemu-img.js";
import type { Compression, IngestRequest, IngestResult } from "./core/ports/ingest.js";
import { HEARTBEAT_MS, LIVE_MS, type NodePresence, joinDeployment } from "./deployment/node-presence.js";
import { ImageSourceOpener } from "./ingest/sources/source-opener.js";
import { DirectoryVolumeSource } from "./ingest/sources/volume-source.js";
import { UrlPolicy } from "./ingest/url-policy.js";
import { RemoteImageReader } from "./ingest/sources/remote-image-source.js";
import { OperationEngine } from "./worker/operation-engine.js";
import { createLogger } from "./observability/logger.js";
import { measuredBlobStore } from "./observability/measured-blob-store.js";
import { startMetricsServer } from "./observability/metrics-server.js";
import { Metrics } from "./observability/metrics.js";
import { makePrivateDir } from "./storage/private-dir.js";
import { catalogFor, storeSetFor } from "./storage/stores-for-config.js";
import type { StoreSet } from "./storage/blob/store-set.js";
import { NodeCache } from "./storage/blob/node-cache.js";
import { AuditTrail } from "./observability/audit-trail.js";
import { AmqpNotifier } from "./events/amqp-notifier.js";
import { EventPublisher } from "./events/event-publisher.js";
import { WebhookDispatcher } from "./events/webhook-dispatcher.js";

export interface Service {
  log: Logger;
  http: FastifyInstance | null;
  /** The address the HTTP listener is bound to, once started. */
  url: string | null;
  stop(): Promise<void>;
}

/** Composition root: config → stores → core → listeners and workers. */
export async function startService(config: Config): Promise<Service> {
  const log = createLogger(config.logLevel);
  // In a cluster the primary reports them once.
  if (!cluster.isWorker) for (const warning of config.warnings) log.warn(warning);
  const loose = await makePrivateDir(config.dataDir);
  if (loose !== null) {
    log.warn(
      { dataDir: config.dataDir, was: loose.toString(8), now: (loose & 0o700).toString(8) },
      "the data directory was readable by other users; made it private",
    );
  }
  const catalog = await catalogFor(config);
  const metrics = new Metrics(catalog);
  let blobs: StoreSet;
  let presence: NodePresence;
  try {
    blobs = await storeSetFor(config, (store) => measuredBlobStore(store, metrics));
    presence = await joinDeployment({
      catalog,
      catalogKind: config.databaseUrl ? "postgres" : "sqlite",
      dataDir: config.dataDir,
      blobs,
      role: config.role,
      log,
    });
  } catch (err) {
    await catalog.close();
    throw err;
  }
  await ensureAdminToken(catalog, config.dataDir, log);

  const keystone = config.keystone
    ? new KeystoneTokenValidator(config.keystone, log.child({ component: "keystone" }))
    : null;
  const { core, engine } = assemble(config, catalog, blobs, log, presence.id, metrics, keystone);
  metrics.watchQuotas(() => core.quotas.largest(config.metricsQuotaProjects));

  // Uploads of nodes that are gone (killed mid-stream) are given back, at start and then as
  // their nodes' records age; any node may do it, the first one does.
  const upkeep = async () => {
    // Pooled images (Yandex's `pooled`) are kept in this node's cache, when it has one.
    const pooled = await core.imageData.cache.prefetchPooled();
    if (pooled.length > 0) log.info({ images: pooled }, "pre-fetching pooled images into this node's cache");
    for (const imageId of await core.imageData.recoverAbandonedUploads(Date.now() - LIVE_MS)) {
      log.warn({ imageId }, "an upload's node is gone: the image is queued again and its data removed");
    }
    for (const imageId of await core.imageData.resumable.expire()) {
      log.info({ imageId }, "a resumable upload expired: the image is queued again and its data removed");
    }
  };
  await upkeep();
  const recovery = setInterval(() => {
    upkeep().catch((err: unknown) => log.error({ err }, "recovering abandoned uploads failed"));
  }, HEARTBEAT_MS);
  recovery.unref();

  const audit = config.audit.enabled
    ? new AuditTrail(catalog.auditLog, config.audit.logFile, log.child({ component: "audit" }))
    : null;
  const publisher =
    config.role !== "api"
      ? eventPublisher(config, catalog, `${hostname()}:${process.pid}:${presence.id}`, log, metrics)
      : null;
  if (config.events.enabled) {
    metrics.watchEvents(async () => ({
      backlog: await catalog.outbox.backlog(),
      deliveries: await catalog.webhookQueue.counts(),
    }));
  }

  if (config.role !== "api") {
    publisher?.start();
    // What a killed conversion left in the scratch space (and the qemu-img it may have left running).
    for (const dir of await new ScratchSpace(config.conversion.scratchDir, 0).sweep()) {
      log.info({ dir }, "removed the scratch space of a conversion whose process is gone");
    }
    if (config.conversion.policy.target !== null) assertQemuImg();
    for (const tag of await core.imageData.collectAbandoned()) {
      log.info({ tag }, "removed pending data of a finished operation or upload");
    }
    engine.start();
  }

  let http: FastifyInstance | null = null;
  let url: string | null = null;
  let grpc: GrpcServer | null = null;
  if (config.role !== "worker") {
    const auth = new Authenticator({
      tokens: catalog.tokens,
      bindings: catalog.bindings,
      adminProject: config.adminProject,
      keystone,
      limiter: new FailedAuthLimiter(config.authFailures.burst, config.authFailures.windowMs),
      cacheMs: config.tokenCacheMs,
      onFailure: (reason) => metrics.authFailed(reason),
    });
    if (config.grpc) {
      grpc = await startGrpcServer({
        listen: config.grpc.listen,
        tls: config.grpc.tls && {
          cert: fs.readFileSync(config.grpc.tls.certFile),
          key: fs.readFileSync(config.grpc.tls.keyFile),
        },
        core,
        auth,
        log: log.child({ component: "grpc" }),
        maxMessageBytes: config.maxRequestBodyBytes,
        onAnswered: (service, method, code, seconds) => metrics.grpcAnswered(service, method, code, seconds),
        audit,
        checkResponses: config.checkResponses,
      });
    }
    http = buildHttpApp({
      log,
      core,
      auth,
      maxRequestBodyBytes: config.maxRequestBodyBytes,
      idleTimeoutMs: config.idleTimeoutMs,
      publicUrl: config.publicUrl,
      maxImageBytes: config.maxImageBytes,
      openstackProfile: config.openstackProfile,
      minUploadRate: config.minUploadRate,
      checkResponses: config.checkResponses,
      audit,
      onAnswered: (dialect, route, method, status, seconds) =>
        metrics.httpAnswered(dialect, route, method, status, seconds),
      console: {
        keystoneSignIn:
          keystone && ((user, password, project) => keystone.passwordToken(user, password, project)),
      },
    });
    url = await http.listen({ host: config.listen.host, port: config.listen.port });
  }
  // In a cluster the primary serves every worker's figures on the metrics address (serve.ts).
  if (cluster.isWorker) {
    AggregatorRegistry.setRegistries([metrics.registry]);
    // prom-client answers the primary's requests once an AggregatorRegistry exists in the worker.
    new AggregatorRegistry();
  }
  const metricsServer =
    config.metricsListen && !cluster.isWorker
      ? await startMetricsServer(
          config.metricsListen,
          async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
          log,
        )
      : null;
  if (url !== null) {
    const grpcAt = grpc && config.grpc ? `${config.grpc.listen.host}:${grpc.port}` : "off";
    const metricsAt = metricsServer?.url ?? (cluster.isWorker ? "primary" : "off");
    const adminTokenFile = path.join(config.dataDir, ADMIN_TOKEN_FILE);
    // One banner: where each listener is and where the first credentials are.
    log.info(
      {
        url,
        console: `${url}/console/`,
        dataDir: config.dataDir,
        catalog: config.databaseUrl ? "postgres" : "sqlite",
        blobs: config.s3 ? "s3" : "directory",
        grpc: grpcAt,
        grpcTls: config.grpc?.tls ? true : false,
        metrics: metricsAt,
        adminTokenFile,
      },
      `vitrine listening: REST ${url} · console ${url}/console/ · gRPC ${grpcAt}${config.grpc?.tls ? " (TLS)" : ""} · ` +
        `metrics ${metricsAt} · ${config.databaseUrl ? "PostgreSQL" : "SQLite"} + ` +
        `${config.s3 ? "S3" : "directory"} under ${config.dataDir} · admin token in ${adminTokenFile}`,
    );
  }

  let stopping: Promise<void> | null = null;
  return {
    log,
    http,
    url,
    stop: () =>
      (stopping ??= (async () => {
        // Stop taking requests and let running ones finish, then hand running operations back.
        await Promise.all([http?.close(), grpc?.close(), metricsServer?.close()]);
        clearInterval(recovery);
        await engine.stop();
        await publisher?.stop();
        await audit?.close();
        await presence.leave();
        await catalog.close();
      })()),
  };
}

/**
 * The outbox's publisher (README "Events and audit"): Glance notifications when a broker is
 * configured, webhooks, and the removal of events and audit records past retention.
 */
export function eventPublisher(
  config: Config,
  catalog: ServiceCatalog,
  holder: string,
  log: Logger,
  metrics: Metrics | null = null,
): EventPublisher | null {
  if (!config.events.enabled && !config.audit.enabled) return null;
  const events = config.events;
  const eventLog = log.child({ component: "events" });
  return new EventPublisher(
    catalog,
    {
      holder,
      publish: events.enabled,
      notifier: events.notifications && new AmqpNotifier(events.notifications, eventLog),
      webhooks: new WebhookDispatcher(
        catalog.webhookQueue,
        new UrlPolicy(config.importAllowedHosts),
        events.webhooks,
        eventLog,
        metrics,
      ),
      eventRetentionMs: events.retentionSeconds * 1000,
      auditRetentionMs: config.audit.retentionSeconds * 1000,
    },
    eventLog,
    metrics,
  );
}

/** The core and its workers on the given stores (the service's, or a test's in-process ones). */
export function assemble(
  config: Config,
  catalog: ServiceCatalog,
  blobs: StoreSet,
  log: Logger,
  nodeId: string,
  metrics: Metrics | null = null,
  keystone: KeystoneTokenValidator | null = null,
): { core: Core; engine: OperationEngine } {
  const urlPolicy = new UrlPolicy(config.importAllowedHosts);
  const ingestInto = async (request: IngestRequest): Promise<IngestResult> => {
    const started = performance.now();
    const store = request.store ?? blobs.defaultStore;
    try {
      const result = { ...(await ingest(blobs.get(store) ?? blobs, request)), store };
      metrics?.ingested(request, result, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      metrics?.ingestFailed(err);
      throw err;
    }
  };
  const cacheConfig = config.stores.cache;
  const deps = {
    catalog,
    blobs,
    stores: blobs,
    cache:
      cacheConfig.maxBytes > 0 && blobs.list().some((s) => s.kind === "s3")
        ? new NodeCache(cacheConfig.dir, cacheConfig.maxBytes, log.child({ component: "cache" }))
        : null,
    ingest: ingestInto,
    resumableIngest: new AppendingIngest(blobs),
    resumableExpiryMs: config.resumableExpirySeconds * 1000,
    sources: new ImageSourceOpener(
      urlPolicy,
      new DirectoryVolumeSource({ disk: config.disksDir, snapshot: config.snapshotsDir }),
      keystone && new RemoteImageReader(keystone, urlPolicy),
    ),
    remoteImports: keystone !== null,
    writableLocations: config.showLocations,
    urls: urlPolicy,
    formats: config.formats,
    maxImageBytes: config.maxImageBytes,
    externalSubjects: config.keystone !== null,
    limits:
      keystone && config.keystone?.limits
        ? new KeystoneLimits(keystone, config.keystone.limits)
        : new CatalogLimits(catalog),
    nodeId,
    binRetentionSeconds: config.binRetentionSeconds,
    decompress: (source: Readable, label: string, onCompression: (c: Compression | null) => void) =>
      decompressing(
        source,
        { maxOutputBytes: config.maxImageBytes, ...config.decompression },
        label,
        onCompression,
      ),
    converter: new QemuImgConverter({
      blobs,
      ingest: ingestInto,
      scratch: new ScratchSpace(config.conversion.scratchDir, config.conversion.scratchLimitBytes),
      limits: config.conversion,
      localPathOf: (key) => blobs.localFileOf(key),
    }),
    conversion: config.conversion.policy,
  };
  const engine = new OperationEngine(
    catalog,
    buildRunners(deps),
    { owner: `${hostname()}:${process.pid}:${nodeId}`, ...config.operations },
    log.child({ component: "operations" }),
    metrics && {
      started: () => metrics.operationStarted(),
      ended: (op, outcome, ran) => metrics.operationEnded(op.kind, outcome, op.createdAt, ran),
    },
  );
  const core = buildCore({ ...deps, queue: engine });
  return { core, engine };
}
