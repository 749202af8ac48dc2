import type { Operation } from "../operation.js";

/**
 * The workers' side of operations, as the core sees it: operations are queued by inserting them
 * in the catalog (in the use case's transaction); the queue only needs to hear about it.
 */
export interface OperationQueue {
  /** Work was queued (the queuing transaction committed): start it when a worker is free. */
  kick(): void;
  /** Whether a user may cancel `op` while it runs. */
  isCancellable(op: Operation): boolean;
  /** Cancels an unfinished operation, wherever it runs (or ends it at once if nobody runs it). */
  cancel(op: Operation): Promise<void>;
}
