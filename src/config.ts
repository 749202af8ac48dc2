import { parseDurationSeconds } from "./duration.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ALL_FORMATS, DEFAULT_FORMAT_POLICY, type FormatPolicy } from "./core/format-policy.js";
import type { DiskFormat } from "./core/disk-format.js";
import { type ConversionPolicy, TARGET_FORMATS } from "./core/conversion/conversion-policy.js";
import { FOUR_TIB } from "./core/image-sizes.js";

/** One typed configuration, from flags, VITRINE_* environment variables and an optional JSON file. */
export interface Config {
  /** Settings given that the service does not know (misspelt or gone), for the log at start. */
  warnings: string[];
  dataDir: string;
  /** The catalog: null for the embedded SQLite file in the data directory, or a postgres:// URL. */
  databaseUrl: string | null;
  /** Image bytes: null for the data directory, or an S3 bucket (credentials: the AWS environment/credential chain). */
  s3: S3Config | null;
  /** The named stores (README "Stores, cache and regions"). */
  stores: StoresConfig;
  /** Images show their locations and take new ones, read and verified (Glance's show_multiple_locations). */
  showLocations: boolean;
  listen: { host: string; port: number };
  /** Where Prometheus scrapes `GET /metrics` (null: off); a listener of its own, for the operators' network. */
  metricsListen: { host: string; port: number } | null;
  /** Projects whose quota usage and limits the metrics show (those storing the most). */
  metricsQuotaProjects: number;
  /**
   * Validate every answer against the shape its route or RPC declares, failing it as an internal
   * error when it does not match (a developer's setting: the tests turn it on; it costs time).
   */
  checkResponses: boolean;
  /** The gRPC listener (null: off) and its TLS key pair (null: plaintext). */
  grpc: { listen: { host: string; port: number }; tls: { certFile: string; keyFile: string } | null } | null;
  logLevel: string;
  /** Host names/IPs create-from-URI may fetch from besides public hosts; "*" allows any. */
  importAllowedHosts: string[];
  disksDir: string | null;
  snapshotsDir: string | null;
  /** Largest image accepted, in bytes. */
  maxImageBytes: number;
  /** Largest JSON request body, in bytes. */
  maxRequestBodyBytes: number;
  /** A connection silent this long (a stalled upload, a client that stopped reading) is closed. */
  idleTimeoutMs: number;
  /** An upload slower than this on average, once its grace period is over, is cut (0: never). */
  minUploadRate: { bytesPerSecond: number; graceMs: number };
  operations: { leaseMs: number; pollMs: number; concurrency: number; maxAttempts: number };
  /** How long a deleted image stays in the recycle bin unless its folder says otherwise (0: none). */
  binRetentionSeconds: number;
  /** How long a resumable upload nobody appends to is kept (README "Resumable transfers"). */
  resumableExpirySeconds: number;
  /** Processes serving the same data directory (Node's cluster: they share the listeners). */
  workers: number;
  /** Which parts this process runs: API listeners, operation workers, or both. */
  role: "all" | "api" | "worker";
  /** The OpenStack project of admin tokens scoped to no project (owner of what they create there). */
  adminProject: string;
  formats: FormatPolicy;
  /**
   * Whose defaults the OpenStack dialect keeps where the public cloud's IMS (the seed) and Glance
   * differ: `ims` (visibility private on create, and only private) or `glance` (shared by
   * default, any visibility the caller may set).
   */
  openstackProfile: OpenStackProfile;
  /** Base URL clients reach the service at, for links in OpenStack version documents; null: from the request. */
  publicUrl: string | null;
  /** Keystone mode: OpenStack tokens validated against Keystone v3; null: local tokens only. */
  keystone: KeystoneConfig | null;
  /** Conversion of what arrives, and the scratch space and limits of qemu-img (README "Conversion and export"). */
  conversion: ConversionConfig;
  /** Bounds on compressed sources (README "Conversion and export"). */
  decompression: { maxRatio: number; ratioFloorBytes: number; decoderMemoryBytes: number };
  /** Failed authentications a source address may make per window before it is answered 429. */
  authFailures: { burst: number; windowMs: number };
  /** How long a checked token of ours is trusted before the database is read again. */
  tokenCacheMs: number;
  /** The outbox, notifications and webhooks (README "Events and audit"). */
  events: EventsConfig;
  /** Audit records of mutations and refusals (README "Events and audit"). */
  audit: AuditConfig;
}

export interface EventsConfig {
  /** Whether changes write events (VITRINE_EVENTS=off: none, and nothing is published). */
  enabled: boolean;
  /** Glance-compatible notifications over AMQP 0-9-1 (null: none). */
  notifications: { url: string; exchange: string; topic: string; publisherId: string } | null;
  /** How long published events (and finished webhook deliveries) are kept. */
  retentionSeconds: number;
  webhooks: { maxAttempts: number; retryBaseMs: number; retryMaxMs: number; timeoutMs: number };
}

export interface AuditConfig {
  enabled: boolean;
  /** The audit log stream: a file (JSON lines), or null for the service's standard output. */
  logFile: string | null;
  retentionSeconds: number;
}

export type OpenStackProfile = "ims" | "glance";

export interface ConversionConfig {
  /** The installation's policy; a folder may have its own. */
  policy: ConversionPolicy;
  /** Where qemu-img works (local disk; it needs random access). */
  scratchDir: string;
  /** The most bytes conversions hold there at once; 0: what the filesystem has free. */
  scratchLimitBytes: number;
  /** prlimit's bounds on each qemu-img run. */
  cpuSeconds: number;
  memoryBytes: number;
}

export interface KeystoneConfig {
  /** Keystone's base URL, e.g. http://keystone:5000 (a trailing /v3 is accepted). */
  url: string;
  /** The service user this service validates tokens as (needs the `service` or `admin` role). */
  username: string;
  password: string;
  userDomain: string;
  project: string;
  projectDomain: string;
  /** How long a validated token is trusted without asking Keystone again. */
  cacheMs: number;
  /** Quota limits from Keystone's unified limits (VITRINE_KEYSTONE_LIMITS), or null: Vitrine's own. */
  limits: { service: string | null; region: string | null; cacheMs: number } | null;
}

export interface StoresConfig {
  /** The id of the installation's own store (the data directory's, or --blob-store's). */
  primaryId: string;
  /** More stores: directories or S3 buckets (on VITRINE_S3_ENDPOINT's server). */
  more: ({ id: string; kind: "file"; dir: string } | { id: string; kind: "s3"; s3: S3Config })[];
  /** Where data goes unless a request names a store. */
  defaultId: string;
  /** This node's cache of data read from S3 stores: its directory and size bound (0: no cache). */
  cache: { dir: string; maxBytes: number };
}

export interface S3Config {
  bucket: string;
  /** Object key prefix ("" or ending in "/"). */
  prefix: string;
  /** An S3-compatible server's URL; null for AWS itself. */
  endpoint: string | null;
  region: string;
  forcePathStyle: boolean;
}

export interface ConfigFlags {
  dataDir?: string;
  database?: string;
  blobStore?: string;
  listen?: string;
  workers?: string;
  grpcListen?: string;
  metricsListen?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel?: string;
  config?: string;
  role?: string;
}

type Env = Record<string, string | undefined>;

/**
 * Every setting the server reads, by its environment name (the config file uses the same keys).
 * A VITRINE_* variable or file key not listed is reported at start (a misspelt setting would
 * otherwise be silently ignored); `get` refuses a name missing here, so the list cannot fall behind.
 */
export const SETTINGS: readonly string[] = [
  "AWS_REGION",
  "VITRINE_ADMIN_PROJECT",
  "VITRINE_AUDIT",
  "VITRINE_AUDIT_LOG",
  "VITRINE_AUDIT_RETENTION",
  "VITRINE_AUTH_FAILURE_BURST",
  "VITRINE_AUTH_FAILURE_WINDOW_SECONDS",
  "VITRINE_BAREMETAL_FORMATS",
  "VITRINE_BLOB_STORE",
  "VITRINE_CACHE_DIR",
  "VITRINE_CACHE_SIZE",
  "VITRINE_CHECK_RESPONSES",
  "VITRINE_COMPUTE_URI_FORMATS",
  "VITRINE_COMPUTE_VOLUME_FORMATS",
  "VITRINE_DATABASE_URL",
  "VITRINE_DATA_DIR",
  "VITRINE_CONVERSION_CPU_SECONDS",
  "VITRINE_CONVERSION_MEMORY",
  "VITRINE_CONVERSION_SCRATCH_DIR",
  "VITRINE_CONVERSION_SCRATCH_LIMIT",
  "VITRINE_CONVERT_KEEP",
  "VITRINE_CONVERT_TO",
  "VITRINE_DECOMPRESSION_MAX_RATIO",
  "VITRINE_DEFAULT_STORE",
  "VITRINE_DISKS_DIR",
  "VITRINE_EVENTS",
  "VITRINE_EVENT_RETENTION",
  "VITRINE_GRPC_LISTEN",
  "VITRINE_IDLE_TIMEOUT_SECONDS",
  "VITRINE_IMPORT_ALLOWED_HOSTS",
  "VITRINE_KEYSTONE_CACHE_SECONDS",
  "VITRINE_KEYSTONE_LIMITS",
  "VITRINE_KEYSTONE_LIMITS_CACHE_SECONDS",
  "VITRINE_KEYSTONE_LIMITS_REGION",
  "VITRINE_KEYSTONE_LIMITS_SERVICE",
  "VITRINE_KEYSTONE_PASSWORD",
  "VITRINE_KEYSTONE_PROJECT",
  "VITRINE_KEYSTONE_PROJECT_DOMAIN",
  "VITRINE_KEYSTONE_URL",
  "VITRINE_KEYSTONE_USERNAME",
  "VITRINE_KEYSTONE_USER_DOMAIN",
  "VITRINE_LISTEN",
  "VITRINE_LOG_LEVEL",
  "VITRINE_MAX_IMAGE_BYTES",
  "VITRINE_MAX_REQUEST_BODY_BYTES",
  "VITRINE_MAX_VIRTUAL_SIZE",
  "VITRINE_METRICS_LISTEN",
  "VITRINE_METRICS_QUOTA_PROJECTS",
  "VITRINE_NOTIFICATIONS_EXCHANGE",
  "VITRINE_NOTIFICATIONS_PUBLISHER_ID",
  "VITRINE_NOTIFICATIONS_TOPIC",
  "VITRINE_NOTIFICATIONS_URL",
  "VITRINE_OPENSTACK_PROFILE",
  "VITRINE_OPERATION_CONCURRENCY",
  "VITRINE_OPERATION_LEASE_SECONDS",
  "VITRINE_OPERATION_MAX_ATTEMPTS",
  "VITRINE_OPERATION_POLL_MS",
  "VITRINE_PUBLIC_URL",
  "VITRINE_RECYCLE_BIN_RETENTION",
  "VITRINE_RELAX_FORMAT_MISMATCH",
  "VITRINE_RESUMABLE_EXPIRY",
  "VITRINE_ROLE",
  "VITRINE_S3_ENDPOINT",
  "VITRINE_S3_FORCE_PATH_STYLE",
  "VITRINE_S3_REGION",
  "VITRINE_SHOW_LOCATIONS",
  "VITRINE_SNAPSHOTS_DIR",
  "VITRINE_STORES",
  "VITRINE_STORE_ID",
  "VITRINE_TLS_CERT",
  "VITRINE_TLS_KEY",
  "VITRINE_TOKEN_CACHE_SECONDS",
  "VITRINE_UPLOAD_MIN_RATE",
  "VITRINE_UPLOAD_RATE_GRACE_SECONDS",
  "VITRINE_WEBHOOK_MAX_ATTEMPTS",
  "VITRINE_WEBHOOK_RETRY_BASE_MS",
  "VITRINE_WEBHOOK_RETRY_MAX_MS",
  "VITRINE_WEBHOOK_TIMEOUT_SECONDS",
  "VITRINE_WORKERS",
];

/** Read by the `vitrine` client commands and the test harness, not by the server: never reported. */
const OTHER_VITRINE_VARIABLES = [
  "VITRINE_CONFIG",
  "VITRINE_ENDPOINT",
  "VITRINE_TOKEN",
  "VITRINE_FOLDER_ID",
  "VITRINE_PROFILE",
  "VITRINE_TEST_BACKEND",
];

export function loadConfig(flags: ConfigFlags, env: Env = process.env): Config {
  const file = flags.config ?? env.VITRINE_CONFIG;
  const fromFile: Env = file
    ? flattenFile(JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>)
    : {};
  const get = (name: string): string | undefined => {
    if (!SETTINGS.includes(name)) throw new Error(`setting ${name} is read but not listed in SETTINGS`);
    return env[name] ?? fromFile[name];
  };

  const dataDir = path.resolve(flags.dataDir ?? get("VITRINE_DATA_DIR") ?? "./vitrine-data");
  const role = flags.role ?? get("VITRINE_ROLE") ?? "all";
  if (role !== "all" && role !== "api" && role !== "worker")
    throw new Error(`--role must be all, api or worker, not ${role}`);
  const databaseUrl = flags.database ?? get("VITRINE_DATABASE_URL") ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error(
      `--database must be a postgres:// URL (or left out for the embedded SQLite), not ${databaseUrl}`,
    );
  }
  const blobStore = flags.blobStore ?? get("VITRINE_BLOB_STORE") ?? null;
  return {
    warnings: unknownSettings(env, fromFile, file ?? null),
    dataDir,
    databaseUrl,
    s3: blobStore === null ? null : s3Config(blobStore, get),
    stores: storesConfig(get, dataDir),
    showLocations: bool(get("VITRINE_SHOW_LOCATIONS"), "VITRINE_SHOW_LOCATIONS"),
    listen: parseListen(flags.listen ?? get("VITRINE_LISTEN") ?? "127.0.0.1:9292"),
    metricsListen: listenOrOff(
      flags.metricsListen ?? get("VITRINE_METRICS_LISTEN") ?? "127.0.0.1:9294",
      "--metrics-listen",
    ),
    metricsQuotaProjects: int(get("VITRINE_METRICS_QUOTA_PROJECTS"), 50, "VITRINE_METRICS_QUOTA_PROJECTS"),
    grpc: grpcConfig(
      flags.grpcListen ?? get("VITRINE_GRPC_LISTEN") ?? "127.0.0.1:9293",
      flags.tlsCert ?? get("VITRINE_TLS_CERT") ?? null,
      flags.tlsKey ?? get("VITRINE_TLS_KEY") ?? null,
    ),
    logLevel: flags.logLevel ?? get("VITRINE_LOG_LEVEL") ?? "info",
    importAllowedHosts: (get("VITRINE_IMPORT_ALLOWED_HOSTS") ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean),
    disksDir: get("VITRINE_DISKS_DIR") ?? null,
    snapshotsDir: get("VITRINE_SNAPSHOTS_DIR") ?? null,
    maxImageBytes: int(get("VITRINE_MAX_IMAGE_BYTES"), FOUR_TIB, "VITRINE_MAX_IMAGE_BYTES"),
    maxRequestBodyBytes: int(
      get("VITRINE_MAX_REQUEST_BODY_BYTES"),
      1024 * 1024,
      "VITRINE_MAX_REQUEST_BODY_BYTES",
    ),
    idleTimeoutMs: 1000 * int(get("VITRINE_IDLE_TIMEOUT_SECONDS"), 300, "VITRINE_IDLE_TIMEOUT_SECONDS"),
    minUploadRate: {
      bytesPerSecond: int(get("VITRINE_UPLOAD_MIN_RATE"), 1024, "VITRINE_UPLOAD_MIN_RATE"),
      graceMs: 1000 * int(get("VITRINE_UPLOAD_RATE_GRACE_SECONDS"), 60, "VITRINE_UPLOAD_RATE_GRACE_SECONDS"),
    },
    operations: {
      leaseMs: 1000 * int(get("VITRINE_OPERATION_LEASE_SECONDS"), 20, "VITRINE_OPERATION_LEASE_SECONDS"),
      pollMs: int(get("VITRINE_OPERATION_POLL_MS"), 500, "VITRINE_OPERATION_POLL_MS"),
      concurrency: int(get("VITRINE_OPERATION_CONCURRENCY"), 4, "VITRINE_OPERATION_CONCURRENCY"),
      maxAttempts: int(get("VITRINE_OPERATION_MAX_ATTEMPTS"), 3, "VITRINE_OPERATION_MAX_ATTEMPTS"),
    },
    binRetentionSeconds: duration(get("VITRINE_RECYCLE_BIN_RETENTION"), 0, "VITRINE_RECYCLE_BIN_RETENTION"),
    resumableExpirySeconds: duration(get("VITRINE_RESUMABLE_EXPIRY"), 86_400, "VITRINE_RESUMABLE_EXPIRY"),
    role,
    workers: parseWorkers(flags.workers ?? get("VITRINE_WORKERS") ?? "1"),
    adminProject: get("VITRINE_ADMIN_PROJECT") ?? "admin",
    formats: {
      computeUri: formatList(
        get("VITRINE_COMPUTE_URI_FORMATS"),
        DEFAULT_FORMAT_POLICY.computeUri,
        "VITRINE_COMPUTE_URI_FORMATS",
      ),
      computeVolume: formatList(
        get("VITRINE_COMPUTE_VOLUME_FORMATS"),
        DEFAULT_FORMAT_POLICY.computeVolume,
        "VITRINE_COMPUTE_VOLUME_FORMATS",
      ),
      baremetal: formatList(
        get("VITRINE_BAREMETAL_FORMATS"),
        DEFAULT_FORMAT_POLICY.baremetal,
        "VITRINE_BAREMETAL_FORMATS",
      ),
      maxVirtualSize: int(
        get("VITRINE_MAX_VIRTUAL_SIZE"),
        DEFAULT_FORMAT_POLICY.maxVirtualSize,
        "VITRINE_MAX_VIRTUAL_SIZE",
      ),
      relaxFormatMismatch: bool(get("VITRINE_RELAX_FORMAT_MISMATCH"), "VITRINE_RELAX_FORMAT_MISMATCH"),
    },
    openstackProfile: openstackProfile(get("VITRINE_OPENSTACK_PROFILE")),
    checkResponses: bool(get("VITRINE_CHECK_RESPONSES"), "VITRINE_CHECK_RESPONSES"),
    publicUrl: get("VITRINE_PUBLIC_URL")?.replace(/\/+$/, "") ?? null,
    keystone: keystoneConfig(get),
    tokenCacheMs: 1000 * int(get("VITRINE_TOKEN_CACHE_SECONDS"), 5, "VITRINE_TOKEN_CACHE_SECONDS"),
    events: eventsConfig(get),
    audit: {
      enabled: onUnlessOff(get("VITRINE_AUDIT"), "VITRINE_AUDIT"),
      logFile: auditLogFile(get("VITRINE_AUDIT_LOG"), dataDir),
      retentionSeconds: duration(get("VITRINE_AUDIT_RETENTION"), 90 * 86_400, "VITRINE_AUDIT_RETENTION"),
    },
    conversion: {
      policy: {
        target: conversionTarget(get("VITRINE_CONVERT_TO")),
        keep: formatList(get("VITRINE_CONVERT_KEEP"), [], "VITRINE_CONVERT_KEEP"),
      },
      scratchDir: path.resolve(get("VITRINE_CONVERSION_SCRATCH_DIR") ?? path.join(dataDir, "scratch")),
      scratchLimitBytes: int(get("VITRINE_CONVERSION_SCRATCH_LIMIT"), 0, "VITRINE_CONVERSION_SCRATCH_LIMIT"),
      cpuSeconds: int(get("VITRINE_CONVERSION_CPU_SECONDS"), 3600, "VITRINE_CONVERSION_CPU_SECONDS"),
      memoryBytes: int(get("VITRINE_CONVERSION_MEMORY"), 2 * 1024 ** 3, "VITRINE_CONVERSION_MEMORY"),
    },
    decompression: {
      maxRatio: int(get("VITRINE_DECOMPRESSION_MAX_RATIO"), 1024, "VITRINE_DECOMPRESSION_MAX_RATIO"),
      ratioFloorBytes: 64 * 1024 * 1024,
      decoderMemoryBytes: 512 * 1024 * 1024,
    },
    authFailures: {
      burst: int(get("VITRINE_AUTH_FAILURE_BURST"), 20, "VITRINE_AUTH_FAILURE_BURST"),
      windowMs:
        1000 * int(get("VITRINE_AUTH_FAILURE_WINDOW_SECONDS"), 60, "VITRINE_AUTH_FAILURE_WINDOW_SECONDS"),
    },
  };
}

function keystoneConfig(get: (name: string) => string | undefined): KeystoneConfig | null {
  const url = get("VITRINE_KEYSTONE_URL");
  if (!url) return null;
  const username = get("VITRINE_KEYSTONE_USERNAME");
  const password = get("VITRINE_KEYSTONE_PASSWORD");
  if (!username || !password) {
    throw new Error("VITRINE_KEYSTONE_URL needs VITRINE_KEYSTONE_USERNAME and VITRINE_KEYSTONE_PASSWORD");
  }
  return {
    url: url.replace(/\/+$/, "").replace(/\/v3$/, ""),
    username,
    password,
    userDomain: get("VITRINE_KEYSTONE_USER_DOMAIN") ?? "Default",
    project: get("VITRINE_KEYSTONE_PROJECT") ?? "service",
    projectDomain: get("VITRINE_KEYSTONE_PROJECT_DOMAIN") ?? "Default",
    cacheMs: 1000 * int(get("VITRINE_KEYSTONE_CACHE_SECONDS"), 60, "VITRINE_KEYSTONE_CACHE_SECONDS"),
    limits: bool(get("VITRINE_KEYSTONE_LIMITS"), "VITRINE_KEYSTONE_LIMITS")
      ? {
          service: get("VITRINE_KEYSTONE_LIMITS_SERVICE") || null,
          region: get("VITRINE_KEYSTONE_LIMITS_REGION") || null,
          cacheMs:
            1000 *
            int(get("VITRINE_KEYSTONE_LIMITS_CACHE_SECONDS"), 30, "VITRINE_KEYSTONE_LIMITS_CACHE_SECONDS"),
        }
      : null,
  };
}

function openstackProfile(value: string | undefined): OpenStackProfile {
  if (value === undefined || value === "") return "ims";
  if (value === "ims" || value === "glance") return value;
  throw new Error(`VITRINE_OPENSTACK_PROFILE must be ims or glance, not ${value}`);
}

function formatList(value: string | undefined, fallback: readonly DiskFormat[], name: string): DiskFormat[] {
  if (value === undefined || value.trim() === "") return [...fallback];
  const formats = value.split(",").map((f) => f.trim());
  for (const f of formats) {
    if (!(ALL_FORMATS as readonly string[]).includes(f))
      throw new Error(`${name}: ${f} is not one of ${ALL_FORMATS.join(", ")}`);
  }
  return formats as DiskFormat[];
}

/** VITRINE_CONVERT_TO: a format data is converted to (empty or unset: none), as formatList words it. */
function conversionTarget(value: string | undefined): DiskFormat | null {
  const target = value?.trim();
  if (!target) return null;
  if (!(TARGET_FORMATS as readonly string[]).includes(target))
    throw new Error(`VITRINE_CONVERT_TO: ${target} is not one of ${TARGET_FORMATS.join(", ")}`);
  return target as DiskFormat;
}

/** A feature on by default: `off` (or false, 0) turns it off. */
function onUnlessOff(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "" || value === "on" || value === "true" || value === "1") return true;
  if (value === "off" || value === "false" || value === "0") return false;
  throw new Error(`${name} must be on or off, not ${value}`);
}

function eventsConfig(get: (name: string) => string | undefined): EventsConfig {
  const url = get("VITRINE_NOTIFICATIONS_URL") ?? null;
  if (url !== null && !/^(amqps?|rabbit):\/\//.test(url)) {
    throw new Error(
      `VITRINE_NOTIFICATIONS_URL must be an amqp:// (or rabbit://) URL, not ${url.split("@").pop()}`,
    );
  }
  return {
    enabled: onUnlessOff(get("VITRINE_EVENTS"), "VITRINE_EVENTS"),
    notifications:
      url === null
        ? null
        : {
            // oslo.messaging's transport URLs name the driver rabbit://; AMQP clients say amqp://.
            url: url.replace(/^rabbit:/, "amqp:"),
            exchange: get("VITRINE_NOTIFICATIONS_EXCHANGE") ?? "glance",
            topic: get("VITRINE_NOTIFICATIONS_TOPIC") ?? "notifications",
            publisherId: get("VITRINE_NOTIFICATIONS_PUBLISHER_ID") ?? `image.${os.hostname()}`,
          },
    retentionSeconds: duration(get("VITRINE_EVENT_RETENTION"), 7 * 86_400, "VITRINE_EVENT_RETENTION"),
    webhooks: {
      maxAttempts: Math.max(1, int(get("VITRINE_WEBHOOK_MAX_ATTEMPTS"), 15, "VITRINE_WEBHOOK_MAX_ATTEMPTS")),
      retryBaseMs: int(get("VITRINE_WEBHOOK_RETRY_BASE_MS"), 1000, "VITRINE_WEBHOOK_RETRY_BASE_MS"),
      retryMaxMs: int(get("VITRINE_WEBHOOK_RETRY_MAX_MS"), 600_000, "VITRINE_WEBHOOK_RETRY_MAX_MS"),
      timeoutMs: 1000 * int(get("VITRINE_WEBHOOK_TIMEOUT_SECONDS"), 10, "VITRINE_WEBHOOK_TIMEOUT_SECONDS"),
    },
  };
}

/** The audit stream's file: `-` is standard output; by default audit.log in the data directory. */
function auditLogFile(value: string | undefined, dataDir: string): string | null {
  if (value === "-") return null;
  return path.resolve(value ?? path.join(dataDir, "audit.log"));
}

function bool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "" || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  throw new Error(`${name} must be true or false, not ${value}`);
}

/** A count of processes, or `auto`: one per CPU this process may use. */
function parseWorkers(value: string): number {
  if (value === "auto") return os.availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new Error(`--workers must be 1 to 256 or auto, not ${value}`);
  return n;
}

function grpcConfig(listen: string, certFile: string | null, keyFile: string | null): Config["grpc"] {
  if ((certFile === null) !== (keyFile === null)) {
    throw new Error("--tls-cert and --tls-key go together (PEM files of the certificate chain and its key)");
  }
  if (listen === "off") return null;
  return {
    listen: parseListen(listen, "--grpc-listen"),
    tls: certFile !== null && keyFile !== null ? { certFile, keyFile } : null,
  };
}

function listenOrOff(value: string, flag: string): { host: string; port: number } | null {
  return value === "off" ? null : parseListen(value, flag);
}

function parseListen(value: string, flag = "--listen"): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value.trim());
  if (!m) throw new Error(`${flag} must be HOST:PORT, not ${value}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${flag} port out of range: ${value}`);
  return { host: m[1] ?? m[2]!, port };
}

function duration(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const seconds = parseDurationSeconds(value);
  if (seconds === null)
    throw new Error(`${name} must be a duration such as 7d, 12h, 30m or 90s, not ${value}`);
  return seconds;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, not ${value}`);
  return n;
}

/** The config file uses the environment variable names as keys: {"VITRINE_LISTEN": "..."}. */
function flattenFile(obj: Record<string, unknown>): Env {
  const out: Env = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v === null || v === undefined ? undefined : String(v);
  return out;
}

/**
 * VITRINE_STORES: more named stores, `id=/a/directory` or `id=s3://bucket[/prefix]`, comma-separated;
 * VITRINE_STORE_ID names the installation's own store (`fs`, Glance's name for its file store).
 */
function storesConfig(get: (name: string) => string | undefined, dataDir: string): StoresConfig {
  const primaryId = get("VITRINE_STORE_ID") ?? "fs";
  const ids = new Set([primaryId]);
  const more = (get("VITRINE_STORES") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([a-z0-9][a-z0-9_-]{0,62})=(.+)$/i.exec(entry);
      if (!m)
        throw new Error(`VITRINE_STORES entries look like id=/a/directory or id=s3://bucket, not ${entry}`);
      const [, id, where] = m as unknown as [string, string, string];
      if (ids.has(id)) throw new Error(`VITRINE_STORES names store ${id} twice`);
      ids.add(id);
      if (where.startsWith("s3://"))
        return { id, kind: "s3" as const, s3: s3Config(where, get, "VITRINE_STORES") };
      if (!path.isAbsolute(where))
        throw new Error(`VITRINE_STORES: store ${id}'s directory must be absolute, not ${where}`);
      return { id, kind: "file" as const, dir: where };
    });
  const defaultId = get("VITRINE_DEFAULT_STORE") ?? primaryId;
  if (!ids.has(defaultId))
    throw new Error(`VITRINE_DEFAULT_STORE names no store: ${defaultId} (stores: ${[...ids].join(", ")})`);
  return {
    primaryId,
    more,
    defaultId,
    cache: {
      dir: path.resolve(get("VITRINE_CACHE_DIR") ?? path.join(dataDir, "cache")),
      maxBytes: int(get("VITRINE_CACHE_SIZE"), 0, "VITRINE_CACHE_SIZE"),
    },
  };
}

/** `s3://bucket[/prefix]` and the VITRINE_S3_* settings. */
function s3Config(
  url: string,
  get: (name: string) => string | undefined,
  setting = "--blob-store",
): S3Config {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`${setting} must look like s3://bucket or s3://bucket/prefix, not ${url}`);
  const prefix = (m[2] ?? "").replace(/\/+$/, "");
  return {
    bucket: m[1]!,
    prefix: prefix === "" ? "" : `${prefix}/`,
    endpoint: get("VITRINE_S3_ENDPOINT") ?? null,
    region: get("VITRINE_S3_REGION") ?? get("AWS_REGION") ?? "us-east-1",
    forcePathStyle:
      (get("VITRINE_S3_FORCE_PATH_STYLE") ?? (get("VITRINE_S3_ENDPOINT") ? "true" : "false")) === "true",
  };
}

/** The VITRINE_* variables and config-file keys given that no setting reads, with a guess at the meant one. */
function unknownSettings(env: Env, fromFile: Env, file: string | null): string[] {
  const known = new Set([...SETTINGS, ...OTHER_VITRINE_VARIABLES]);
  const report = (name: string, where: string) => {
    const near = SETTINGS.map((s) => [s, editDistance(name, s)] as const)
      .filter(([, d]) => d <= 3)
      .sort((a, b) => a[1] - b[1])[0];
    return `unknown setting ${name} (${where}) is ignored${near ? `; did you mean ${near[0]}?` : ""}`;
  };
  return [
    ...Object.keys(env)
      .filter((k) => k.startsWith("VITRINE_") && !known.has(k))
      .map((k) => report(k, "environment")),
    ...Object.keys(fromFile)
      .filter((k) => !SETTINGS.includes(k))
      .map((k) => report(k, `config file ${file}`)),
  ];
}

/** Levenshtein distance (names are short: a full table is fine). */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
