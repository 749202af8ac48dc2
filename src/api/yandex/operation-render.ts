import { quotaViolationOf } from "../../core/quotas/quota.js";
import type { AccessBinding, AccessBindingDelta } from "../../core/access-binding.js";
import type { Operation, OperationProgress, OperationResponse } from "../../core/operation.js";
import { renderStatus } from "./errors.js";
import type { ImageKind } from "../../core/image.js";
import type { ImageService } from "./image-service.js";
import { EMPTY_RESPONSE, any, timestamp } from "./json.js";

/** Each operation's metadata type, in the image service's package or the shared access package. */
const METADATA_TYPE: Record<Operation["kind"], { type: string; access: boolean }> = {
  "image.create": { type: "CreateImageMetadata", access: false },
  "image.update": { type: "UpdateImageMetadata", access: false },
  "image.delete": { type: "DeleteImageMetadata", access: false },
  "image.setAccessBindings": { type: "SetAccessBindingsMetadata", access: true },
  "image.updateAccessBindings": { type: "UpdateAccessBindingsMetadata", access: true },
  "image.deprecate": { type: "DeprecateImageMetadata", access: false },
  "image.transition": { type: "DeprecateImageMetadata", access: false },
  "image.restore": { type: "RestoreImageMetadata", access: false },
  "image.purge": { type: "PurgeImageMetadata", access: false },
  // A copy to more stores changes no field a Yandex client sees: an update of the image.
  "image.copy": { type: "UpdateImageMetadata", access: false },
};

const ACCESS_PKG = "yandex.cloud.access";

/** The Operation resource, with metadata and response typed for the service that owns the image. */
export function renderOperation(
  op: Operation,
  services: Record<ImageKind, ImageService>,
): Record<string, unknown> {
  const service = services[op.resourceKind];
  const out: Record<string, unknown> = {
    id: op.id,
    description: op.description,
    createdAt: timestamp(op.createdAt),
    createdBy: op.createdBy,
    modifiedAt: timestamp(op.modifiedAt),
    done: op.done,
    metadata: metadataOf(op, service),
  };
  // Vitrine's extension (README "Operations"): clients that do not know the field ignore it.
  if (op.progress) out.progress = renderProgress(op.progress);
  if (op.notBefore !== null) out.scheduledFor = timestamp(op.notBefore);
  if (op.error) {
    const { details } = renderStatus(
      op.error.code,
      op.error.message,
      op.error.violations ?? [],
      undefined,
      quotaViolationOf(op.error),
    );
    out.error = { code: renderStatus(op.error.code, "").code, message: op.error.message, details };
  } else if (op.response) {
    out.response = responseOf(op.response, service);
  }
  return out;
}

/** int64 fields are strings in proto3 JSON; a total of 0 means the source announced no length. */
function renderProgress(progress: OperationProgress): Record<string, string> {
  return {
    bytesDone: String(progress.bytesDone),
    bytesTotal: String(progress.bytesTotal ?? 0),
    ...(progress.stage ? { stage: progress.stage } : {}),
  };
}

function metadataOf(op: Operation, service: ImageService): Record<string, unknown> {
  const { type, access } = METADATA_TYPE[op.kind];
  return access
    ? any(`${ACCESS_PKG}.${type}`, { resourceId: op.resourceId })
    : any(`${service.pkg}.${type}`, { imageId: op.resourceId });
}

function responseOf(response: OperationResponse, service: ImageService): Record<string, unknown> {
  if (response.type === "image") return any(`${service.pkg}.Image`, service.renderImage(response.image));
  if (response.type === "accessBindings") {
    return any(`${ACCESS_PKG}.AccessBindingsOperationResult`, {
      effectiveDeltas: response.effectiveDeltas.map(renderDelta),
    });
  }
  return EMPTY_RESPONSE;
}

export function renderBinding(b: AccessBinding): Record<string, unknown> {
  return { roleId: b.roleId, subject: { id: b.subject.id, type: b.subject.type } };
}

function renderDelta(d: AccessBindingDelta): Record<string, unknown> {
  return { action: d.action, accessBinding: renderBinding(d.accessBinding) };
}
