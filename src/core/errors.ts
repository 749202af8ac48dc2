/**
 * Typed domain errors. The core throws these; each API dialect maps them to its own wire format
 * exactly once, at its edge (see api/yandex/errors.ts). Messages are written for API users: they
 * name the field or resource and the rule, never internal details.
 */
export type ErrorCode =
  | "CANCELLED"
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "RESOURCE_EXHAUSTED"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "OUT_OF_RANGE"
  | "UNIMPLEMENTED"
  | "INTERNAL"
  | "UNAVAILABLE"
  | "UNAUTHENTICATED"
  | "PAYLOAD_TOO_LARGE";

export interface FieldViolation {
  field: string;
  description: string;
}

/**
 * Finer, neutral causes. A dialect may answer one differently from the code alone (Glance answers
 * 403 for a protected image and 409 for a status conflict, where gRPC has FAILED_PRECONDITION for
 * both) and word it in its own language from the error's `args` (each dialect's message
 * catalogue); the core's message is the neutral wording every other dialect shows.
 */
export type ErrorReason =
  /** args: format (what the data is), allowed (comma-separated) */
  | "FORMAT_NOT_ALLOWED"
  /** args: rules (the inspection rule families that refused it, comma-separated: qcow2, polyglot, gpt ...) */
  | "IMAGE_REFUSED"
  | "PROTECTED"
  | "READ_ONLY_ATTRIBUTE"
  | "RESERVED_ATTRIBUTE"
  | "STATUS_NOT_ALLOWED"
  | "STATUS_CONFLICT"
  | "NOT_OWNER"
  | "MEMBER_CONFLICT"
  /** The storage under the catalog or the image bytes is full (the cause says which). */
  | "STORAGE_FULL"
  /** args: size (the image's, in bytes) */
  | "RANGE_NOT_SATISFIABLE"
  | "RATE_LIMITED"
  /** args: id (as the caller named the image) */
  | "IMAGE_NOT_FOUND"
  /** args: action, folderId */
  | "FOLDER_ACTION_DENIED"
  /** args: id, action */
  | "IMAGE_ACTION_DENIED"
  | "PUBLICIZE_DENIED"
  /** args: field (diskFormat | containerFormat) */
  | "FORMAT_FROZEN"
  /** args: uuid */
  | "UUID_TAKEN"
  /** args: verb (deactivate | reactivate) */
  | "DEACTIVATE_DENIED"
  | "OWNER_CHANGE_DENIED"
  /** args: id */
  | "NOT_SHARED"
  /** args: member, id */
  | "MEMBER_NOT_FOUND"
  /** args: from, to (core statuses) */
  | "TRANSITION_NOT_ALLOWED"
  /** args: purpose (saving | importing) */
  | "FORMATS_UNSET"
  /** An import URL the allow-list refused. args: uri (as given, or the refused host or address) */
  | "URI_REFUSED"
  | "DEACTIVATED"
  /** An obsolete image asked for new use (a create from it, a download). args: id, replacement ("" when none) */
  | "IMAGE_OBSOLETE"
  /** args: id */
  | "NO_STAGED_DATA"
  /** args: marker */
  | "MARKER_NOT_FOUND"
  /** args: name */
  | "PROPERTY_MISSING"
  /** args: tag */
  | "TAG_MISSING"
  /** A project's limit would be passed. args: resource, projectId, limit, usage, requested (core units) */
  | "QUOTA_EXCEEDED"
  /** The caller already used the idempotency key: the operation it started is the answer. */
  | "IDEMPOTENCY_REPLAY"
  /** A compressed source expands past a bound. args: codec */
  | "DECOMPRESSION_BOMB"
  /** A compressed source is not valid. args: codec */
  | "DECOMPRESSION_FAILED"
  /** A tool a worker needs is not installed. args: codec or tool */
  | "TOOL_MISSING"
  /** qemu-img could not convert the data. args: from, to */
  | "CONVERSION_FAILED"
  /** The scratch space a conversion needs is not there. args: needed, available (bytes) */
  | "SCRATCH_FULL"
  /** A resumable upload's request was stopped: another request took the upload over. */
  | "UPLOAD_TAKEN_OVER"
  /** Another request is appending to the resumable upload now (tus: 423 Locked). */
  | "UPLOAD_LOCKED"
  /** The request's offset is not the upload's. args: offset (the upload's), requested */
  | "UPLOAD_OFFSET_MISMATCH"
  /** The resumable upload is gone: completed, cancelled, or expired (tus: 404/410). args: id */
  | "UPLOAD_NOT_FOUND"
  /** A store id the installation does not have. args: store */
  | "UNKNOWN_STORE"
  /** None of the image's stores answered. args: stores (comma-separated) */
  | "STORE_UNAVAILABLE"
  /** The image's data is already in that store. args: store */
  | "ALREADY_IN_STORE"
  /** The image's data is not in that store. args: store */
  | "NOT_IN_STORE"
  /** The store holds the image's only copy. args: store */
  | "LAST_STORE";

export type ErrorArgs = Readonly<Record<string, string>>;

export class VitrineError extends Error {
  readonly code: ErrorCode;
  readonly violations: FieldViolation[];
  reason: ErrorReason | null = null;
  /** What a dialect needs to word the reason its own way (see ErrorReason). */
  args: ErrorArgs = {};
  /** Seconds the client should wait before trying again (Retry-After), when it matters. */
  retryAfterSeconds: number | null = null;

  constructor(code: ErrorCode, message: string, violations: FieldViolation[] = []) {
    super(message);
    this.name = "VitrineError";
    this.code = code;
    this.violations = violations;
  }

  /** Tags the error with a finer cause (see ErrorReason); returns it for `throw x.because(...)`. */
  because(reason: ErrorReason, args: ErrorArgs = {}): this {
    this.reason = reason;
    this.args = args;
    return this;
  }

  /** Tells the client when to come back (sent as Retry-After); returns the error. */
  retryAfter(seconds: number): this {
    this.retryAfterSeconds = seconds;
    return this;
  }
}

export const invalidArgument = (message: string, violations: FieldViolation[] = []): VitrineError =>
  new VitrineError("INVALID_ARGUMENT", message, violations);

/** One error carrying every field violation found, with a message naming the first. */
export function validationFailed(violations: FieldViolation[]): VitrineError {
  const first = violations[0];
  const summary = first ? `${first.field}: ${first.description}` : "invalid request";
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : "";
  return new VitrineError("INVALID_ARGUMENT", `Request validation error: ${summary}${more}`, violations);
}

export const notFound = (message: string): VitrineError => new VitrineError("NOT_FOUND", message);
export const alreadyExists = (message: string): VitrineError => new VitrineError("ALREADY_EXISTS", message);
export const failedPrecondition = (message: string): VitrineError =>
  new VitrineError("FAILED_PRECONDITION", message);
export const permissionDenied = (message: string): VitrineError =>
  new VitrineError("PERMISSION_DENIED", message);
export const unauthenticated = (message: string): VitrineError =>
  new VitrineError("UNAUTHENTICATED", message);
export const aborted = (message: string): VitrineError => new VitrineError("ABORTED", message);
export const cancelled = (message: string): VitrineError => new VitrineError("CANCELLED", message);
export const unavailable = (message: string): VitrineError => new VitrineError("UNAVAILABLE", message);
export const internal = (message = "Internal error"): VitrineError => new VitrineError("INTERNAL", message);

/** The disk (or quota) under the catalog or the blobs is full; `cause` is kept for the log. */
export const storageFull = (cause: unknown): VitrineError =>
  Object.assign(
    new VitrineError("RESOURCE_EXHAUSTED", "The image storage is full; retry once space is freed").because(
      "STORAGE_FULL",
    ),
    { cause },
  );

/** Whether an error must be logged with its cause: the service's failure, not the caller's. */
export const needsOperatorAttention = (err: VitrineError): boolean =>
  err.code === "INTERNAL" || err.reason === "STORAGE_FULL";

/**
 * Refusals an operator wants to see even though the caller caused them: a hostile or disallowed
 * image, an import URL the allow-list refused, a source guessing tokens (rate-limited), a project
 * at its quota (someone will ask for more).
 */
const WATCHED_REASONS: ReadonlySet<ErrorReason> = new Set<ErrorReason>([
  "IMAGE_REFUSED",
  "FORMAT_NOT_ALLOWED",
  "URI_REFUSED",
  "RATE_LIMITED",
  "QUOTA_EXCEEDED",
]);

export const isWatchedRefusal = (err: unknown): err is VitrineError =>
  isVitrineError(err) && err.reason !== null && WATCHED_REASONS.has(err.reason);

export function isVitrineError(err: unknown): err is VitrineError {
  return err instanceof VitrineError;
}
