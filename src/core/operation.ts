import type { AccessBindingDelta } from "./access-binding.js";
import type { ErrorCode, FieldViolation } from "./errors.js";
import type { Image } from "./image.js";

/** What an operation acts on and does; dialects turn it into their own metadata/response types. */
export type OperationKind =
  "image.create" | "image.update" | "image.delete" | "image.setAccessBindings" | "image.updateAccessBindings";

export interface OperationError {
  code: ErrorCode;
  message: string;
  violations?: FieldViolation[];
}

/** The response of a finished operation, in core terms: the image as it was when the operation ended. */
export type OperationResponse =
  | { type: "image"; image: Image }
  | { type: "empty" }
  | { type: "accessBindings"; effectiveDeltas: AccessBindingDelta[] };

export interface Operation {
  id: string;
  kind: OperationKind;
  /** The image's kind, so a dialect can name the right metadata type. */
  resourceKind: Image["kind"];
  resourceId: string;
  /** The folder of the resource, for access checks after the resource is gone. */
  folderId: string;
  description: string;
  createdBy: string;
  createdAt: number;
  modifiedAt: number;
  done: boolean;
  error: OperationError | null;
  response: OperationResponse | null;
  /** The task's input, read by the worker that runs it. */
  payload: Record<string, unknown>;
  cancelRequested: boolean;
  attempts: number;
}
