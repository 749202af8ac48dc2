import fs from "node:fs";
import path from "node:path";
import pino, { type Logger } from "pino";
import type { AuditRecord } from "../core/events/audit.js";
import type { SqlAuditStore } from "../storage/meta/audit-store.js";

export type NewAuditRecord = Omit<AuditRecord, "seq">;

/** Records written to the catalog at once, at most. */
const BATCH = 500;
const FLUSH_MS = 250;

/**
 * The audit trail (README "Events and audit"): each record goes to its own log stream (JSON
 * lines, a file of the data directory's by default, or standard output) at once, and to the
 * catalog — where admins query it — in batches off the request's path. A record never holds a
 * token, a secret, a body or a query string: the callers give route templates and ids only.
 */
export class AuditTrail {
  private pending: NewAuditRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly stream: Logger;

  constructor(
    private readonly store: SqlAuditStore,
    logFile: string | null,
    private readonly log: Logger,
  ) {
    if (logFile !== null) fs.mkdirSync(path.dirname(logFile), { recursive: true, mode: 0o700 });
    const destination =
      logFile === null
        ? pino.destination({ fd: 1, sync: false })
        : pino.destination({ dest: logFile, mkdir: true, sync: false });
    this.stream = pino(
      { base: { log: "audit" }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: "msg" },
      destination,
    );
  }

  record(r: NewAuditRecord): void {
    this.stream.info(r, `${r.decision} ${r.method} ${r.action} ${r.status}`);
    this.pending.push(r);
    if (this.pending.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is pending to the catalog (records of one flush in one statement). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      try {
        if (batch.length > 0) await this.store.insertMany(batch);
      } catch (err) {
        // The log stream has them; the catalog's copy is for queries.
        this.log.error({ err, records: batch.length }, "audit records could not be written to the catalog");
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve) => this.stream.flush(() => resolve()));
  }
}
