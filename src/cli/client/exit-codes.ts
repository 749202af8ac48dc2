/**
 * The client's exit codes, for scripts (README "The vitrine CLI"):
 * 0 done; 1 the service refused or failed the request; 2 bad usage or configuration;
 * 3 the operation ended with an error; 4 the service could not be reached; 130 interrupted.
 */
export const EXIT = {
  ok: 0,
  refused: 1,
  usage: 2,
  operationFailed: 3,
  unreachable: 4,
  interrupted: 130,
} as const;

/** A mistake in the command line or the client's configuration. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

/** The service answered with an error, in its dialect's words. */
export class ApiError extends Error {
  readonly exitCode = EXIT.refused;
  constructor(
    message: string,
    readonly status: number,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

/** A name that more than one image answers to: the command acts on none of them. */
export class Ambiguous extends Error {
  readonly exitCode = EXIT.refused;
}

/** An operation finished with an error. */
export class OperationFailed extends Error {
  readonly exitCode = EXIT.operationFailed;
  constructor(
    readonly operationId: string,
    message: string,
  ) {
    super(message);
  }
}

/** The endpoint did not answer (refused, unresolvable, timed out). */
export class Unreachable extends Error {
  readonly exitCode = EXIT.unreachable;
}

/** One line for a person: the message and, when the service named it, the request id. */
export function describeFailure(err: unknown): { line: string; exitCode: number } {
  if (err instanceof ApiError) {
    return {
      line: `${err.message}${err.requestId ? ` (request id ${err.requestId})` : ""}`,
      exitCode: err.exitCode,
    };
  }
  if (err instanceof OperationFailed) {
    return { line: `operation ${err.operationId} failed: ${err.message}`, exitCode: err.exitCode };
  }
  if (err instanceof UsageError || err instanceof Unreachable || err instanceof Ambiguous)
    return { line: err.message, exitCode: err.exitCode };
  return { line: err instanceof Error ? err.message : String(err), exitCode: EXIT.refused };
}
