import { currentActor } from "../../observability/request-context.js";
import type { ExpressionBuilder, Selectable } from "kysely";
import type {
  Operation,
  OperationError,
  OperationKind,
  OperationProgress,
  OperationResponse,
} from "../../core/operation.js";
import type { NewOperation, OperationResult, OperationStore } from "../../core/ports/catalog.js";
import { alreadyExists } from "../../core/errors.js";
import { type Db, isUniqueViolation } from "./database.js";
import { decodeTask } from "./operation-tasks.js";
import type { Database, OperationsTable } from "./schema.js";

type Row = Selectable<OperationsTable>;
type Where = ExpressionBuilder<Database, "operations">;

/** Nobody holds it: never leased, released, or its worker's lease ran out. */
const isUnleased = (now: number) => (eb: Where) =>
  eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<", now)]);

/** Not scheduled, or its time has come. */
const isDue = (now: number) => (eb: Where) =>
  eb.or([eb("not_before", "is", null), eb("not_before", "<=", now)]);

function toOperation(row: Row): Operation {
  return {
    id: row.id,
    kind: row.kind as OperationKind,
    resourceKind: row.resource_kind as Operation["resourceKind"],
    resourceId: row.resource_id,
    folderId: row.folder_id,
    description: row.description,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    modifiedAt: Number(row.modified_at),
    done: row.done === 1,
    error: row.error ? (JSON.parse(row.error) as OperationError) : null,
    response: row.response ? (JSON.parse(row.response) as OperationResponse) : null,
    task: decodeTask(row.kind as OperationKind, row.payload),
    cancelRequested: row.cancel_requested === 1,
    attempts: row.attempts,
    requestId: row.request_id ?? null,
    progress:
      row.progress_bytes === null
        ? null
        : {
            bytesDone: Number(row.progress_bytes),
            bytesTotal: row.progress_total === null ? null : Number(row.progress_total),
            ...(row.progress_stage ? { stage: row.progress_stage as OperationProgress["stage"] } : {}),
          },
    notBefore: row.not_before === null ? null : Number(row.not_before),
  };
}

export class SqlOperationStore implements OperationStore {
  constructor(private readonly db: Db) {}

  async insert(op: NewOperation, now: number): Promise<Operation> {
    const result = op.result;
    await this.db
      .insertInto("operations")
      .values({
        id: op.id,
        kind: op.kind,
        resource_kind: op.resourceKind,
        resource_id: op.resourceId,
        folder_id: op.folderId,
        description: op.description,
        created_by: op.createdBy,
        created_at: now,
        modified_at: now,
        done: result ? 1 : 0,
        error: result && "error" in result ? JSON.stringify(result.error) : null,
        response: result && "response" in result ? JSON.stringify(result.response) : null,
        payload: JSON.stringify(op.task),
        cancel_requested: 0,
        attempts: 0,
        lease_owner: null,
        lease_expires_at: null,
        idempotency_key: op.idempotencyKey,
        // The request that started it, when the dialect did not name one: the one being answered.
        request_id: op.requestId ?? currentActor().requestId,
        progress_bytes: null,
        progress_total: null,
        progress_stage: null,
        not_before: op.notBefore ?? null,
      })
      .execute()
      .catch((err: unknown) => {
        if (op.idempotencyKey !== null && isUniqueViolation(err)) {
          throw alreadyExists("An operation with this idempotency key exists").because("IDEMPOTENCY_REPLAY");
        }
        throw err;
      });
    return (await this.findById(op.id))!;
  }

  async findById(id: string): Promise<Operation | null> {
    const row = await this.db.selectFrom("operations").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toOperation(row) : null;
  }

  async findByIdempotencyKey(createdBy: string, key: string): Promise<Operation | null> {
    const row = await this.db
      .selectFrom("operations")
      .selectAll()
      .where("created_by", "=", createdBy)
      .where("idempotency_key", "=", key)
      .executeTakeFirst();
    return row ? toOperation(row) : null;
  }

  /** Newest first, keyset paginated on (created_at, id). */
  async listForResource(
    resourceId: string,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Operation[]> {
    return this.newestFirst("resource_id", resourceId, limit, after);
  }

  async listForFolder(
    folderId: string,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Operation[]> {
    return this.newestFirst("folder_id", folderId, limit, after);
  }

  async listByKind(
    kind: OperationKind,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Operation[]> {
    return this.newestFirst("kind", kind, limit, after);
  }

  /** Operations whose `column` is `value`, newest first after `after`: `limit + 1` rows. */
  private async newestFirst(
    column: "resource_id" | "kind" | "folder_id",
    value: string,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Operation[]> {
    let q = this.db.selectFrom("operations").selectAll().where(column, "=", value);
    if (after) {
      q = q.where((eb) => eb(eb.refTuple("created_at", "id"), "<", eb.tuple(after.createdAt, after.id)));
    }
    const rows = await q
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(limit + 1)
      .execute();
    return rows.map(toOperation);
  }

  /** Ids of unfinished operations that no live worker holds, oldest first. */
  async countUnfinished(now: number): Promise<{ running: number; queued: number }> {
    const rows = await this.db
      .selectFrom("operations")
      .select([
        (eb) => eb.fn.countAll<number>().as("n"),
        (eb) =>
          eb.fn.sum<number>(eb.case().when("lease_expires_at", ">=", now).then(1).else(0).end()).as("held"),
      ])
      .where("done", "=", 0)
      // Scheduled work not yet due is waiting for its time, not for a worker.
      .where(isDue(now))
      .executeTakeFirstOrThrow();
    const held = Number(rows.held ?? 0);
    return { running: held, queued: Number(rows.n) - held };
  }

  /** Free operations that run as soon as a worker can (scheduled ones aside), oldest first. */
  async findClaimable(now: number, limit: number): Promise<string[]> {
    const rows = await this.free(now)
      .where("not_before", "is", null)
      .orderBy("created_at", "asc")
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Free scheduled operations whose time has come, soonest due first (their own index). */
  async findDue(now: number, limit: number): Promise<string[]> {
    const rows = await this.free(now)
      .where("not_before", "<=", now)
      .orderBy("not_before", "asc")
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Unfinished operations no live worker holds. */
  private free(now: number) {
    return this.db.selectFrom("operations").select("id").where("done", "=", 0).where(isUnleased(now));
  }

  /**
   * Takes the lease on an operation if it is free (never leased, released, or expired because its
   * worker died). The conditional UPDATE makes the claim atomic across processes.
   */
  async claim(
    id: string,
    owner: string,
    now: number,
    leaseMs: number,
    early = false,
  ): Promise<Operation | null> {
    let q = this.db
      .updateTable("operations")
      .set((eb) => ({
        lease_owner: owner,
        lease_expires_at: now + leaseMs,
        attempts: eb("attempts", "+", 1),
        modified_at: now,
      }))
      .where("id", "=", id)
      .where("done", "=", 0)
      .where(isUnleased(now));
    if (!early) q = q.where(isDue(now));
    const result = await q.executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return null;
    return this.findById(id);
  }

  /** Extends the leases this worker holds; returns the ids whose cancellation was requested. */
  async renewLeases(owner: string, ids: string[], now: number, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    await this.db
      .updateTable("operations")
      .set({ lease_expires_at: now + leaseMs })
      .where("lease_owner", "=", owner)
      .where("id", "in", ids)
      .where("done", "=", 0)
      .execute();
    const rows = await this.db
      .selectFrom("operations")
      .select("id")
      .where("id", "in", ids)
      .where("cancel_requested", "=", 1)
      .execute();
    return rows.map((r) => r.id);
  }

  async saveProgress(id: string, owner: string, progress: OperationProgress): Promise<void> {
    await this.db
      .updateTable("operations")
      .set({
        progress_bytes: progress.bytesDone,
        progress_total: progress.bytesTotal,
        progress_stage: progress.stage ?? null,
      })
      .where("id", "=", id)
      .where("lease_owner", "=", owner)
      .where("done", "=", 0)
      .execute();
  }

  /** Ends an operation; only the lease holder (or anyone, for an unleased one) may. */
  async finish(id: string, owner: string | null, result: OperationResult, now: number): Promise<boolean> {
    let q = this.db
      .updateTable("operations")
      .set({
        done: 1,
        error: "error" in result ? JSON.stringify(result.error) : null,
        response: "response" in result ? JSON.stringify(result.response) : null,
        lease_owner: null,
        lease_expires_at: null,
        modified_at: now,
      })
      .where("id", "=", id)
      .where("done", "=", 0);
    q = owner === null ? q : q.where("lease_owner", "=", owner);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Gives an operation back (graceful shutdown) so the next worker resumes it at once. */
  async release(id: string, owner: string, now: number): Promise<void> {
    await this.db
      .updateTable("operations")
      .set({
        lease_owner: null,
        lease_expires_at: null,
        attempts: (eb) => eb("attempts", "-", 1),
        modified_at: now,
      })
      .where("id", "=", id)
      .where("lease_owner", "=", owner)
      .where("done", "=", 0)
      .execute();
  }

  async requestCancel(id: string, now: number): Promise<void> {
    await this.db
      .updateTable("operations")
      .set({ cancel_requested: 1, modified_at: now })
      .where("id", "=", id)
      .where("done", "=", 0)
      .execute();
  }

  /** Ids of operations that are unfinished, for housekeeping such as temp-file cleanup. */
  async unfinishedIds(): Promise<Set<string>> {
    const rows = await this.db.selectFrom("operations").select("id").where("done", "=", 0).execute();
    return new Set(rows.map((r) => r.id));
  }

  /** Whether an operation on `resourceId` is still running (or waiting to run, scheduled ones aside). */
  async hasUnfinished(resourceId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("operations")
      .select("id")
      .where("resource_id", "=", resourceId)
      .where("done", "=", 0)
      .where("not_before", "is", null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async scheduled(resourceId: string, kind: OperationKind): Promise<Operation[]> {
    const rows = await this.db
      .selectFrom("operations")
      .selectAll()
      .where("resource_id", "=", resourceId)
      .where("kind", "=", kind)
      .where("done", "=", 0)
      .where("not_before", "is not", null)
      .orderBy("not_before", "asc")
      .execute();
    return rows.map(toOperation);
  }
}
