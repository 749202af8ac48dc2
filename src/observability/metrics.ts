import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { isVitrineError } from "../core/errors.js";
import type { Catalog } from "../core/ports/catalog.js";
import type { ProjectQuota } from "../core/quotas/project-quotas.js";
import { QUOTA_RESOURCES, type QuotaResource } from "../core/quotas/quota.js";
import type { IngestRequest, IngestResult } from "../core/ports/ingest.js";

/** Request latencies: from a cached GET (sub-millisecond) to a large upload (minutes). */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const MB = 1e6;
const THROUGHPUT_BUCKETS = [1, 10, 25, 50, 100, 200, 300, 500, 1000, 2000].map((n) => n * MB);

/**
 * Everything Vitrine measures about itself, in the Prometheus text format (README "Operating
 * Vitrine" lists each metric). One registry per service (tests run several in one process);
 * counters are this process's, the catalog gauges are read from the catalog at each scrape.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: "vitrine_http_requests_total",
    help: "REST requests answered, by dialect, route template, method and status",
    labelNames: ["dialect", "route", "method", "status"],
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: "vitrine_http_request_duration_seconds",
    help: "REST request latency, by dialect, route template and method",
    labelNames: ["dialect", "route", "method"],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly grpcRequests = new Counter({
    name: "vitrine_grpc_requests_total",
    help: "gRPC calls answered, by service, method and status code",
    labelNames: ["service", "method", "code"],
    registers: [this.registry],
  });
  private readonly grpcDuration = new Histogram({
    name: "vitrine_grpc_request_duration_seconds",
    help: "gRPC call latency, by service and method",
    labelNames: ["service", "method"],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly ingestedBytes = new Counter({
    name: "vitrine_ingested_bytes_total",
    help: "Image bytes accepted and stored, by source (upload, stage, uri, disk, snapshot)",
    labelNames: ["source"],
    registers: [this.registry],
  });
  private readonly ingestThroughput = new Histogram({
    name: "vitrine_ingest_throughput_bytes_per_second",
    help: "Speed of each accepted ingest (bytes over the whole stream), by source",
    labelNames: ["source"],
    buckets: THROUGHPUT_BUCKETS,
    registers: [this.registry],
  });
  private readonly ingestRefusals = new Counter({
    name: "vitrine_ingest_refusals_total",
    help: "Image data refused, by rule: an inspection rule family (qcow2, vmdk, polyglot, gpt, ...) or format_not_allowed",
    labelNames: ["rule"],
    registers: [this.registry],
  });
  private readonly servedBytes = new Counter({
    name: "vitrine_served_bytes_total",
    help: "Image bytes read from the blob store for downloads",
    registers: [this.registry],
  });
  private readonly blobErrors = new Counter({
    name: "vitrine_blob_store_errors_total",
    help: "Blob store calls that failed, by call",
    labelNames: ["call"],
    registers: [this.registry],
  });
  private readonly authFailures = new Counter({
    name: "vitrine_auth_failures_total",
    help: "Requests refused authentication, by reason (missing, invalid, rate_limited)",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: "vitrine_operations_total",
    help: "Operations this process ended or gave back, by kind and outcome (done, failed, cancelled, released, given_up)",
    labelNames: ["kind", "outcome"],
    registers: [this.registry],
  });
  private readonly operationDuration = new Histogram({
    name: "vitrine_operation_duration_seconds",
    help: "Time from an operation's creation to its end, by kind and outcome",
    labelNames: ["kind", "outcome"],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly runningHere = new Gauge({
    name: "vitrine_operations_running_in_process",
    help: "Operations this process is running now",
    registers: [this.registry],
  });

  private readonly published = new Counter({
    name: "vitrine_events_published_total",
    help: "Outbox events published (to the notification broker and the webhook queue)",
    registers: [this.registry],
  });
  private readonly publishFailures = new Counter({
    name: "vitrine_events_publish_failures_total",
    help: "Attempts to publish outbox events that failed (the broker unreachable); retried",
    registers: [this.registry],
  });
  private readonly webhookDeliveries = new Counter({
    name: "vitrine_webhook_deliveries_total",
    help: "Webhook delivery attempts by outcome: delivered, failed (retried later) or dead",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  private readonly webhookDuration = new Histogram({
    name: "vitrine_webhook_delivery_seconds",
    help: "Time a webhook target took to answer a delivery",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(catalog: Catalog) {
    collectDefaultMetrics({ register: this.registry, prefix: "vitrine_" });
    // Read from the catalog at each scrape: the same for every process of a deployment, so in a
    // cluster the primary keeps one worker's figure instead of adding them up.
    new Gauge({
      name: "vitrine_images",
      help: "Images in the catalog, by kind and status",
      labelNames: ["kind", "status"],
      registers: [this.registry],
      aggregator: "first",
      async collect() {
        this.reset();
        for (const row of await catalog.images.countByStatus()) {
          this.set({ kind: row.kind, status: row.status }, row.count);
        }
      },
    });
    new Gauge({
      name: "vitrine_operations",
      help: "Unfinished operations in the catalog: running (a worker holds them) or queued",
      labelNames: ["state"],
      registers: [this.registry],
      aggregator: "first",
      async collect() {
        const counts = await catalog.operations.countUnfinished(Date.now());
        this.set({ state: "running" }, counts.running);
        this.set({ state: "queued" }, counts.queued);
      },
    });
  }

  /**
   * Each listed project's usage and limits by quota, read at each scrape. `largest` bounds the
   * projects (those storing the most): a label value per project, never one per image or request.
   */
  watchQuotas(largest: () => Promise<ProjectQuota[]>): void {
    // The registry collects its metrics at once: both gauges share one read per scrape.
    let reading: Promise<ProjectQuota[]> | null = null;
    const read = () =>
      (reading ??= largest().finally(() => {
        reading = null;
      }));
    const gauge = (
      name: string,
      help: string,
      figure: (r: ProjectQuota["resources"][QuotaResource]) => number | null,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["project", "quota"],
        registers: [this.registry],
        aggregator: "first",
        async collect() {
          const projects = await read();
          this.reset();
          for (const project of projects) {
            for (const quota of QUOTA_RESOURCES) {
              const value = figure(project.resources[quota]);
              if (value !== null) this.set({ project: project.projectId, quota }, value);
            }
          }
        },
      });
    gauge(
      "vitrine_quota_usage",
      "Usage by project and quota (bytes for the sizes), for the projects storing the most",
      (r) => r.usage,
    );
    gauge(
      "vitrine_quota_limit",
      "Limit by project and quota (bytes for the sizes), where one is set",
      (r) => r.limit,
    );
  }

  httpAnswered(dialect: string, route: string, method: string, status: number, seconds: number): void {
    this.httpRequests.inc({ dialect, route, method, status: String(status) });
    this.httpDuration.observe({ dialect, route, method }, seconds);
  }

  grpcAnswered(service: string, method: string, code: string, seconds: number): void {
    this.grpcRequests.inc({ service, method, code });
    this.grpcDuration.observe({ service, method }, seconds);
  }

  ingested(req: IngestRequest, result: IngestResult, seconds: number): void {
    this.ingestedBytes.inc({ source: req.sourceKind }, result.size);
    if (seconds > 0) this.ingestThroughput.observe({ source: req.sourceKind }, result.size / seconds);
  }

  /** An ingest failed: counted when the data itself was refused. */
  ingestFailed(err: unknown): void {
    if (!isVitrineError(err)) return;
    if (err.reason === "FORMAT_NOT_ALLOWED") this.ingestRefusals.inc({ rule: "format_not_allowed" });
    if (err.reason === "IMAGE_REFUSED") {
      for (const rule of (err.args.rules ?? "other").split(",")) this.ingestRefusals.inc({ rule });
    }
  }

  served(bytes: number): void {
    this.servedBytes.inc(bytes);
  }

  blobStoreFailed(call: string): void {
    this.blobErrors.inc({ call });
  }

  /** Outbox events published, or an attempt that failed. */
  eventsPublished(count: number): void {
    this.published.inc(count);
  }

  eventsPublishFailed(): void {
    this.publishFailures.inc();
  }

  webhookAttempted(outcome: "delivered" | "failed" | "dead", seconds: number | null): void {
    this.webhookDeliveries.inc({ outcome });
    if (seconds !== null) this.webhookDuration.observe(seconds);
  }

  /** The outbox's backlog and the webhook queue by status, read at each scrape. */
  watchEvents(counts: () => Promise<{ backlog: number; deliveries: Record<string, number> }>): void {
    let reading: Promise<{ backlog: number; deliveries: Record<string, number> }> | null = null;
    const read = () => (reading ??= counts().finally(() => setTimeout(() => (reading = null), 0)));
    new Gauge({
      name: "vitrine_events_unpublished",
      help: "Outbox events not yet published",
      registers: [this.registry],
      aggregator: "first",
      async collect() {
        this.set((await read()).backlog);
      },
    });
    new Gauge({
      name: "vitrine_webhook_deliveries",
      help: "Webhook deliveries by status: pending, delivered (kept for the retention), dead",
      labelNames: ["status"],
      registers: [this.registry],
      aggregator: "first",
      async collect() {
        for (const [status, n] of Object.entries((await read()).deliveries)) this.set({ status }, n);
      },
    });
  }

  authFailed(reason: "missing" | "invalid" | "rate_limited"): void {
    this.authFailures.inc({ reason });
  }

  operationStarted(): void {
    this.runningHere.inc();
  }

  /** `ran`: whether this process ran it (an operation cancelled or given up before it ran did not). */
  operationEnded(kind: string, outcome: string, createdAt: number, ran = true): void {
    if (ran) this.runningHere.dec();
    this.operations.inc({ kind, outcome });
    this.operationDuration.observe({ kind, outcome }, Math.max(0, (Date.now() - createdAt) / 1000));
  }
}
