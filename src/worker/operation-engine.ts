import type { Logger } from "pino";
import { internal, isVitrineError, needsOperatorAttention } from "../core/errors.js";
import { logWatchedRefusal } from "../observability/refusals.js";
import type { Operation, OperationError, OperationProgress } from "../core/operation.js";
import type { OperationRunner, OperationRunners, RunContext } from "../core/operations/operation-runner.js";
import type { Catalog, CatalogStores } from "../core/ports/catalog.js";
import { actingAs } from "../observability/request-context.js";
import type { OperationQueue } from "../core/ports/operation-queue.js";

/** Why a running operation was stopped: the user cancelled it, or this process is shutting down. */
class CancelRequested extends Error {}
class ShuttingDown extends Error {}
/** Another worker holds the operation now (this one's lease expired): its outcome is not ours to record. */
class LeaseLost extends Error {}

/** Ending transactions that lost a race to a concurrent change are run again, this many times in all. */
const ENDING_ATTEMPTS = 3;

/** Told when this process starts and ends running an operation (the metrics). */
export interface EngineObserver {
  started(op: Operation): void;
  /**
   * done, failed, cancelled, released (given back at shutdown for another worker), or given_up
   * (interrupted more times than allowed: its workers kept dying).
   */
  ended(
    op: Operation,
    outcome: "done" | "failed" | "cancelled" | "released" | "given_up",
    ran?: boolean,
  ): void;
}

export interface EngineOptions {
  /** Unique per process: who holds a lease. */
  owner: string;
  leaseMs: number;
  pollMs: number;
  concurrency: number;
  /** Runs of one operation (each crash of its worker costs one) before it is failed. */
  maxAttempts: number;
}

interface Running {
  /** Scheduled work (a lifecycle transition, a purge): short, and run in slots of its own. */
  scheduled: boolean;
  controller: AbortController;
  done: Promise<void>;
  /** The latest progress reported, until it is recorded. */
  unrecorded: OperationProgress | null;
}

/** How often reported progress is written to the catalog: a progress bar's pace, not every chunk's. */
const PROGRESS_RECORD_MS = 1000;

/**
 * Runs long operations from the database queue. Each worker claims an operation by taking a lease
 * with a conditional UPDATE, renews it while working, and gives it up on shutdown; a worker that
 * dies lets its lease expire and another (or the restarted one) resumes the operation.
 */
export class OperationEngine implements OperationQueue {
  private readonly running = new Map<string, Running>();
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private stopping = false;
  private polling: Promise<void> | null = null;
  private pollAgain = false;

  constructor(
    private readonly catalog: Catalog,
    private readonly runners: OperationRunners,
    private readonly opts: EngineOptions,
    private readonly log: Logger,
    private readonly observer: EngineObserver | null = null,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.timers.push(setInterval(() => this.kick(), this.opts.pollMs));
    this.timers.push(
      setInterval(() => void this.heartbeat(), Math.max(200, Math.floor(this.opts.leaseMs / 3))),
      setInterval(() => void this.recordProgress(), PROGRESS_RECORD_MS),
    );
    this.kick();
  }

  /** Looks for work now (called after a new operation was queued). */
  kick(): void {
    if (!this.started || this.stopping) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.poll()
      .catch((err) => this.log.error({ err }, "operation poll failed"))
      .finally(() => {
        this.polling = null;
        if (this.pollAgain) {
          this.pollAgain = false;
          this.kick();
        }
      });
  }

  isCancellable(op: Operation): boolean {
    return this.runnerFor(op).cancellable;
  }

  private runnerFor(op: Operation): OperationRunner {
    const runner = this.runners[op.kind];
    if (!runner) throw internal(`no runner for operation kind ${op.kind}`);
    return runner;
  }

  /**
   * Cancels an unfinished operation: aborts it here if this process runs it, ends it at once if
   * nobody does, and otherwise leaves the flag for its worker to see at its next heartbeat.
   */
  async cancel(op: Operation): Promise<void> {
    await this.catalog.operations.requestCancel(op.id, Date.now());
    const local = this.running.get(op.id);
    if (local) {
      local.controller.abort(new CancelRequested());
      await local.done;
      return;
    }
    // A scheduled operation is ended now, not at its time.
    const claimed = await this.catalog.operations.claim(
      op.id,
      this.opts.owner,
      Date.now(),
      this.opts.leaseMs,
      true,
    );
    if (claimed) await this.fail(claimed, cancelledError());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.polling;
    for (const r of this.running.values()) r.controller.abort(new ShuttingDown());
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /**
   * Takes what free slots allow. Scheduled work has slots of its own (as many again): a
   * transition due now is not held up behind long imports, and must fire close to its time.
   */
  private async poll(): Promise<void> {
    const scheduled = [...this.running.values()].filter((r) => r.scheduled).length;
    const free = this.opts.concurrency - (this.running.size - scheduled);
    const freeScheduled = this.opts.concurrency - scheduled;
    const now = Date.now();
    const ids = [
      ...(freeScheduled > 0 ? await this.catalog.operations.findDue(now, freeScheduled) : []),
      ...(free > 0 ? await this.catalog.operations.findClaimable(now, free) : []),
    ];
    for (const id of ids) {
      if (this.stopping) return;
      const op = await this.catalog.operations.claim(id, this.opts.owner, Date.now(), this.opts.leaseMs);
      if (!op) continue; // another worker was faster
      if (op.cancelRequested) {
        await this.fail(op, cancelledError());
        this.log.info({ operationId: op.id, kind: op.kind }, "operation cancelled before it ran");
        this.observer?.ended(op, "cancelled", false);
      } else if (op.attempts > this.opts.maxAttempts) {
        const interrupted = op.attempts - 1;
        await this.fail(op, {
          code: "INTERNAL",
          message: `The operation was interrupted ${interrupted} times and was given up`,
        });
        // Its workers kept dying mid-run (a crash, an OOM kill): an operator must look at why.
        this.log.error(
          { operationId: op.id, kind: op.kind, resourceId: op.resourceId, interrupted },
          "operation given up: interrupted more times than VITRINE_OPERATION_MAX_ATTEMPTS allows",
        );
        this.observer?.ended(op, "given_up", false);
      } else {
        this.launch(op);
      }
    }
  }

  private launch(op: Operation): void {
    const controller = new AbortController();
    const log = this.log.child({ operationId: op.id, kind: op.kind, attempt: op.attempts });
    const entry: Running = {
      scheduled: op.notBefore !== null,
      controller,
      done: Promise.resolve(),
      unrecorded: null,
    };
    this.running.set(op.id, entry);
    // The operation's events name who asked for it and the request that did.
    const scope = {
      requestId: op.requestId,
      principal: () => ({ subjectId: op.createdBy, projectId: op.folderId }),
    };
    entry.done = actingAs(scope, () => this.execute(op, controller, log)).finally(() => {
      this.running.delete(op.id);
      // A slot is free: take queued work now rather than at the next poll.
      this.kick();
    });
  }

  private async execute(op: Operation, controller: AbortController, log: Logger): Promise<void> {
    const runner = this.runnerFor(op);
    let completed = false;
    const ctx: RunContext = {
      op,
      signal: controller.signal,
      log,
      complete: async (apply) => {
        controller.signal.throwIfAborted();
        await this.ending(async (tx) => {
          // The last progress reported goes with the result: a short import still shows its bytes.
          const progress = this.running.get(op.id)?.unrecorded;
          if (progress) await tx.operations.saveProgress(op.id, this.opts.owner, progress);
          const response = await apply(tx);
          const ok = await tx.operations.finish(op.id, this.opts.owner, { response }, Date.now());
          if (!ok) throw new LeaseLost();
        });
        completed = true;
      },
      reportProgress: (progress) => {
        const entry = this.running.get(op.id);
        if (entry) entry.unrecorded = progress;
      },
    };
    log.info("operation started");
    this.observer?.started(op);
    let outcome: Parameters<EngineObserver["ended"]>[1] = "failed";
    try {
      await runner.run(ctx);
      if (!completed) throw internal(`runner for ${op.kind} returned without completing`);
      outcome = "done";
      log.info("operation done");
    } catch (err) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : null;
      if (reason instanceof ShuttingDown) {
        // Leave it for the next worker (or this one after restart): nothing is finished or rolled back.
        await runner.cleanup?.(op).catch((e) => log.warn({ err: e }, "cleanup after shutdown failed"));
        await this.catalog.operations.release(op.id, this.opts.owner, Date.now());
        outcome = "released";
        log.info("operation released for resumption at shutdown");
        return;
      }
      if (err instanceof LeaseLost) {
        // Its lease expired while it ran (a stalled process): the worker holding it now ends it.
        outcome = "released";
        log.warn("operation lease lost to another worker; leaving the operation to it");
        return;
      }
      const error: OperationError =
        reason instanceof CancelRequested
          ? cancelledError()
          : isVitrineError(err)
            ? {
                code: err.code,
                message: err.message,
                violations: err.violations,
                ...(err.reason ? { reason: err.reason, args: err.args } : {}),
              }
            : { code: "INTERNAL", message: "Internal error" };
      if (error.code === "INTERNAL" || (isVitrineError(err) && needsOperatorAttention(err))) {
        log.error({ err }, "operation failed");
      } else if (
        !logWatchedRefusal(log, err, { subject: op.createdBy, folder: op.folderId, image: op.resourceId })
      ) {
        log.info({ code: error.code, message: error.message }, "operation failed");
      }
      if (error.code === "CANCELLED") outcome = "cancelled";
      await this.fail(op, error).catch((e: unknown) =>
        // Still leased to this worker: when the lease expires a worker runs it again.
        log.error(
          { err: e },
          "ending the failed operation did not commit; it runs again when its lease expires",
        ),
      );
    } finally {
      this.observer?.ended(op, outcome);
    }
  }

  /** Ends an operation with an error: rollback and the final state in one transaction, then cleanup. */
  private async fail(op: Operation, error: OperationError): Promise<void> {
    const runner = this.runnerFor(op);
    let finished = false;
    await this.ending(async (tx) => {
      finished = await tx.operations.finish(op.id, this.opts.owner, { error }, Date.now());
      if (finished) await runner.rollback(tx, op, error);
    });
    if (finished) {
      await runner.cleanup?.(op).catch((err) => this.log.warn({ err, operationId: op.id }, "cleanup failed"));
    }
  }

  /**
   * The transaction that ends an operation. A use case's save answers a lost race with ABORTED
   * (the image changed since it was read, e.g. a user edited its description meanwhile); the
   * ending is then decided again on what is stored now rather than failing the operation for it.
   */
  private async ending(apply: (tx: CatalogStores) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.catalog.transaction(apply);
        return;
      } catch (err) {
        const lostRace = isVitrineError(err) && err.code === "ABORTED";
        if (!lostRace || attempt >= ENDING_ATTEMPTS) throw err;
      }
    }
  }

  private async recordProgress(): Promise<void> {
    for (const [id, entry] of this.running) {
      const progress = entry.unrecorded;
      if (!progress) continue;
      entry.unrecorded = null;
      await this.catalog.operations
        .saveProgress(id, this.opts.owner, progress)
        .catch((err) => this.log.warn({ err, operationId: id }, "recording progress failed"));
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.running.size === 0) return;
    try {
      const ids = [...this.running.keys()];
      const cancelled = await this.catalog.operations.renewLeases(
        this.opts.owner,
        ids,
        Date.now(),
        this.opts.leaseMs,
      );
      for (const id of cancelled) this.running.get(id)?.controller.abort(new CancelRequested());
    } catch (err) {
      this.log.error({ err }, "lease renewal failed");
    }
  }
}

function cancelledError(): OperationError {
  return { code: "CANCELLED", message: "The operation was cancelled" };
}
