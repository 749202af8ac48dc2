import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import { ensureAdminToken } from "./auth/bootstrap.js";
import type { Config } from "./config.js";
import { startService } from "./main.js";
import { createLogger } from "./observability/logger.js";
import { startMetricsServer } from "./observability/metrics-server.js";
import { makePrivateDir } from "./storage/private-dir.js";
import { catalogFor } from "./storage/stores-for-config.js";

/** A worker that dies sooner than this after its start is crash-looping: wait before the next. */
const QUICK_EXIT_MS = 5_000;
const RESTART_BACKOFF_MS = [0, 1_000, 2_000, 5_000, 10_000];
const MAX_QUICK_EXITS = 5;

/**
 * `vitrine serve`: one process, or with `--workers N` a primary that prepares the installation
 * once (migrations, bootstrap token) and keeps N worker processes running. The workers share the
 * REST and gRPC listeners (Node's cluster module hands them one socket each) and each runs its
 * operation workers on the same catalog; leases and the node registry already make several
 * processes on one data directory safe. SIGTERM/SIGINT stop everything gracefully; a worker that
 * dies is replaced.
 */
export async function serve(config: Config): Promise<void> {
  if (config.workers > 1 && cluster.isPrimary) return supervise(config);
  const service = await startService(config);
  const shutdown = (signal: string) => {
    service.log.info({ signal }, "shutting down");
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        service.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  // A worker told to stop by its primary (which got the signal) goes the same way.
  if (cluster.isWorker) process.on("message", (m) => m === "shutdown" && shutdown("primary"));
}

async function supervise(config: Config): Promise<void> {
  const log = createLogger(config.logLevel, { role: "primary" });
  for (const warning of config.warnings) log.warn(warning);
  // What must happen once, before any worker starts: the private data directory, the migrations,
  // the bootstrap admin token.
  await makePrivateDir(config.dataDir);
  const catalog = await catalogFor(config);
  try {
    await ensureAdminToken(catalog, config.dataDir, log);
  } finally {
    await catalog.close();
  }

  let stopping = false;
  const started = new Map<number, number>();
  /** Workers in a row that died soon after their start. */
  let quickExits = 0;
  const fork = () => {
    const worker = cluster.fork();
    started.set(worker.id, Date.now());
  };
  cluster.on("exit", (worker: Worker, code, signal) => {
    const lived = Date.now() - (started.get(worker.id) ?? 0);
    started.delete(worker.id);
    if (stopping) {
      if (started.size === 0) {
        log.info("all workers stopped");
        process.exit();
      }
      return;
    }
    quickExits = lived < QUICK_EXIT_MS ? quickExits + 1 : 0;
    if (quickExits > MAX_QUICK_EXITS) {
      // Workers that cannot even start (a port taken, a bad setting) will not start next time either.
      log.fatal({ worker: worker.process.pid, code, signal }, "workers keep dying at start; giving up");
      stopping = true;
      process.exitCode = 1;
      for (const other of Object.values(cluster.workers ?? {})) other?.kill("SIGTERM");
      if (started.size === 0) process.exit(1);
      return;
    }
    const delay = RESTART_BACKOFF_MS[Math.min(quickExits, RESTART_BACKOFF_MS.length - 1)]!;
    log.error(
      { worker: worker.process.pid, code, signal, restartInMs: delay },
      "a worker died; starting another",
    );
    setTimeout(() => !stopping && fork(), delay).unref();
  });
  for (let i = 0; i < config.workers; i++) fork();
  // One scrape answers for every worker: counters added up, the catalog's gauges taken once.
  const aggregator = new AggregatorRegistry();
  const metrics = config.metricsListen
    ? await startMetricsServer(
        config.metricsListen,
        async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
        log,
      )
    : null;
  log.info({ workers: config.workers, metrics: metrics?.url ?? "off" }, "vitrine primary started");

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down the workers");
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send("shutdown");
    }
    if (started.size === 0) process.exit(0);
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}
