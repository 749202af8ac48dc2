import { sql } from "kysely";
import { storageFull } from "../../core/errors.js";
import type { SubjectDirectory, TokenDirectory, TokenStore } from "../../auth/token-store.js";
import type { Catalog, CatalogStores, SubjectStore } from "../../core/ports/catalog.js";
import type { NodeRegistry } from "../../deployment/node-registry.js";
import { SqlAccessBindingStore } from "./access-binding-store.js";
import type { Db } from "./database.js";
import { SqlImageReadModel } from "./image-read-model.js";
import { SqlImageStore } from "./image-store.js";
import { SqlFolderSettingsStore } from "./folder-settings-store.js";
import { SqlLifecycleStore } from "./lifecycle-store.js";
import { SqlMemberStore } from "./member-store.js";
import { SqlMetadefStore } from "./metadef-store.js";
import { SqlNodeRegistry } from "./node-registry.js";
import { SqlQuotaStore } from "./quota-store.js";
import { SqlOperationStore } from "./operation-store.js";
import { SqlSubjectStore } from "./subject-store.js";
import { SqlTokenStore } from "./token-store.js";
import {
  SqlImportCheckpointStore,
  SqlOperationCredentialStore,
  SqlResumableUploadStore,
} from "./resumable-transfer-stores.js";
import { SqlUploadStore } from "./upload-store.js";
import { SqlAuditStore } from "./audit-store.js";
import { SqlEventLog, SqlLeases } from "./event-store.js";
import { changesInTransactions, recordingEvents } from "./outbox.js";
import { SqlWebhookStore } from "./webhook-store.js";

export type SqlEngine = "sqlite" | "postgres";

/**
 * The service's catalog: the core's `Catalog`, and the ports others own — the tokens auth/ reads
 * and writes, the node registry deployment/ keeps.
 */
export interface ServiceCatalog extends Catalog {
  subjects: SubjectStore & SubjectDirectory;
  tokens: TokenStore & TokenDirectory;
  nodes: NodeRegistry;
  /** What the publisher needs of the outbox, the webhook queue, the audit log and the leases (src/events). */
  outbox: SqlEventLog;
  webhookQueue: SqlWebhookStore;
  auditLog: SqlAuditStore;
  leases: SqlLeases;
  /** Queues the webhook deliveries of published events and marks them published, in one transaction. */
  settlePublished(
    seqs: number[],
    deliveries: { subscriptionId: string; eventSeq: number; event: object }[],
    now: number,
  ): Promise<void>;
}

export interface CatalogOptions {
  /** Whether changes write their events to the outbox (README "Events and audit"; on by default). */
  events?: boolean;
}

/** The stores bound to one query executor: the database itself or one of its transactions. */
function storesOn(db: Db, engine: SqlEngine): CatalogStores {
  return {
    images: reportingFullDisk(new SqlImageStore(db, engine)),
    imageViews: reportingFullDisk(new SqlImageReadModel(db)),
    operations: reportingFullDisk(new SqlOperationStore(db)),
    members: reportingFullDisk(new SqlMemberStore(db)),
    bindings: reportingFullDisk(new SqlAccessBindingStore(db)),
    subjects: reportingFullDisk(new SqlSubjectStore(db)),
    uploads: reportingFullDisk(new SqlUploadStore(db)),
    resumableUploads: reportingFullDisk(new SqlResumableUploadStore(db)),
    importCheckpoints: reportingFullDisk(new SqlImportCheckpointStore(db)),
    operationCredentials: reportingFullDisk(new SqlOperationCredentialStore(db)),
    metadefs: reportingFullDisk(new SqlMetadefStore(db)),
    quotas: reportingFullDisk(new SqlQuotaStore(db, engine)),
    lifecycle: reportingFullDisk(new SqlLifecycleStore(db)),
    folders: reportingFullDisk(new SqlFolderSettingsStore(db)),
    events: reportingFullDisk(new SqlEventLog(db)),
    webhooks: reportingFullDisk(new SqlWebhookStore(db)),
    audit: reportingFullDisk(new SqlAuditStore(db)),
  };
}

const NO_EVENTS: CatalogStores["events"] = {
  append: async () => {},
  ofImage: async () => [],
};

/** A database that cannot write because its disk is full (SQLite's SQLITE_FULL, PostgreSQL's disk_full). */
function isDatabaseFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "SQLITE_FULL" || code === "53100";
}

function rethrowFull(err: unknown): never {
  throw isDatabaseFull(err) ? storageFull(err) : err;
}

/** The store with a full disk reported as STORAGE_FULL (every dialect answers it at once) instead of an internal error. */
function reportingFullDisk<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch(rethrowFull);
    },
  });
}

/**
 * The catalog on a Kysely database. The stores use SQL both SQLite and PostgreSQL speak; where
 * the two must differ (serialising concurrent writers) the store is told which it talks to.
 */
export function sqlCatalog(
  db: Db,
  engine: SqlEngine,
  { events = true }: CatalogOptions = {},
): ServiceCatalog {
  const txStores = (trx: Db) => (events ? recordingEvents(storesOn(trx, engine)) : storesOn(trx, engine));
  // A full disk ends a SQLite transaction by itself; database.ts makes Kysely's rollback
  // after it a no-op, so the error that caused it is what arrives here.
  const transaction = <T>(work: (tx: CatalogStores) => Promise<T>): Promise<T> =>
    db
      .transaction()
      .execute((trx) => work(txStores(trx)))
      .catch(rethrowFull);
  // Without events, nothing is appended either (a download's image.send): nobody would publish it.
  const stores = events ? storesOn(db, engine) : { ...storesOn(db, engine), events: NO_EVENTS };
  return {
    ...(events ? changesInTransactions(stores, transaction) : stores),
    subjects: reportingFullDisk(new SqlSubjectStore(db)),
    tokens: reportingFullDisk(new SqlTokenStore(db)),
    nodes: new SqlNodeRegistry(db),
    outbox: new SqlEventLog(db),
    webhookQueue: new SqlWebhookStore(db),
    auditLog: new SqlAuditStore(db),
    leases: new SqlLeases(db),
    settlePublished: (seqs, deliveries, now) =>
      db
        .transaction()
        .execute(async (trx) => {
          await new SqlWebhookStore(trx).enqueue(deliveries, now);
          await new SqlEventLog(trx).markPublished(seqs, now);
        })
        .catch(rethrowFull),
    transaction,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
