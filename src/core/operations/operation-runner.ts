import type { Operation, OperationError, OperationProgress, OperationResponse } from "../operation.js";
import type { CatalogStores } from "../ports/catalog.js";

/** Where a running operation says what it did (the worker's log, with the operation's id). */
export interface OperationLog {
  info(fields: object, message: string): void;
}

/** What the worker hands the run half of a use case: the operation, its abort signal, and how to end it. */
export interface RunContext {
  op: Operation;
  /** Aborted on cancellation or shutdown; pass it to every stream and request. */
  signal: AbortSignal;
  log: OperationLog;
  /**
   * Ends the operation successfully: `apply` makes the final catalog changes and returns the
   * response, in the same transaction that marks the operation done. When `apply` loses a race
   * (ABORTED: the image changed since it was read) the worker runs it again on what is stored now.
   */
  complete(apply: (tx: CatalogStores) => Promise<OperationResponse>): Promise<void>;
  /** How far it is; cheap to call often (recorded for readers about once a second). */
  reportProgress(progress: OperationProgress): void;
}

/**
 * The run half of a long use case (the request half queued the operation): the core decides what
 * happens when the work runs, fails, is cancelled or is interrupted; the worker (src/worker) only
 * leases the operation, calls these, and records the outcome.
 */
export interface OperationRunner {
  /** Whether a user may cancel it while it runs. */
  readonly cancellable: boolean;
  /** Does the work and calls `ctx.complete`; throws to fail. Must be safe to run again after a crash. */
  run(ctx: RunContext): Promise<void>;
  /**
   * Puts the resource into its failed (or, for a cancellation, rolled-back) state, in the ending
   * transaction (run again on what is stored now if it loses a race, like `complete`).
   */
  rollback(tx: CatalogStores, op: Operation, error: OperationError): Promise<void>;
  /** Frees what the operation wrote outside the database, after the rollback committed. */
  cleanup?(op: Operation): Promise<void>;
}

/** The run half of every operation kind that has one (those recorded done carry no task). */
export type OperationRunners = Partial<Record<Operation["kind"], OperationRunner>>;
