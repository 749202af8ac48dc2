import { assertWithinLimits } from "../quotas/quota-guard.js";
import { authorize } from "../access.js";
import type { CoreDeps } from "../core-deps.js";
import type { DiskFormat } from "../disk-format.js";
import { failedPrecondition, isVitrineError } from "../errors.js";
import { formatsForCreate } from "../format-policy.js";
import { isActive, transition } from "../image-states.js";
import { type Image, type ImageKind, type OsType, newQueuedImage } from "../image.js";
import type { ImageSource, Operation } from "../operation.js";
import { recordImageOperation } from "../operations/record-operation.js";
import type { CatalogStores } from "../ports/catalog.js";
import { assertNotObsolete } from "../lifecycle/lifecycle.js";
import type { Principal } from "../principal.js";
import { loadImage } from "./image-loader.js";
import { isNameTaken, nameTaken } from "./save-image.js";

/** A create request: the new image's fields, where its data comes from, and how to name the operation. */
export interface CreateImageInput extends Pick<
  Image,
  "kind" | "folderId" | "name" | "description" | "labels" | "family" | "pooled" | "hardwareGeneration"
> {
  /** 0 when the request named none. */
  minDiskSize: number;
  /** null when the request named none (then inherited from a source image). */
  productIds: string[] | null;
  osType: OsType | null;
  source: Exclude<ImageSource, { type: "staged" }>;
  /** The operation's description, in the dialect's words ("Create image"). */
  operationDescription: string;
  /** A retried request with the same key gets the operation of the first one. */
  idempotencyKey: string | null;
  /** An export (core/conversion/export-image.ts): the source image's data converted to this format. */
  convertTo?: DiskFormat;
}

/**
 * Creates an image from a source (the Yandex dialects' create): the image is stored `importing`
 * with a unique name in its folder, and an operation brings its data in.
 */
export async function createImage(
  deps: Pick<CoreDeps, "catalog" | "queue" | "urls" | "formats" | "limits">,
  principal: Principal,
  input: CreateImageInput,
): Promise<Operation> {
  const { catalog } = deps;
  authorize(principal, "images.create", input.folderId);
  const replayOf = (stores: CatalogStores) =>
    input.idempotencyKey
      ? stores.operations.findByIdempotencyKey(principal.subjectId, input.idempotencyKey)
      : Promise.resolve(null);
  const retried = await replayOf(catalog);
  if (retried) return retried;
  if (input.source.type === "uri") deps.urls.check(input.source.uri);
  // The worker reads the source by its id, whichever id (or UUID) the caller named it by.
  const source =
    input.source.type === "image"
      ? {
          type: "image" as const,
          imageId: await checkSourceImage(catalog, principal, input.kind, input.source.imageId),
        }
      : input.source;

  // Stored `importing`: its operation is recorded in the same transaction, so something is
  // bringing its data from the start (`queued` is left to images that wait for an upload).
  const image = transition(
    newQueuedImage(
      {
        kind: input.kind,
        folderId: input.folderId,
        name: input.name,
        description: input.description,
        labels: input.labels,
        family: input.family,
        minDiskSize: input.minDiskSize,
        productIds: input.productIds ?? [],
        osType: input.osType ?? "LINUX",
        pooled: input.pooled,
        hardwareGeneration: input.hardwareGeneration,
      },
      Date.now(),
    ),
    "importing",
  );
  const limits = await deps.limits.limitsFor(image.folderId);
  const op = await catalog
    .transaction(async (tx) => {
      const taken = await isNameTaken(tx, image);
      // A retry that waited for the name behind its first attempt (another node) replays it.
      const previous = await replayOf(tx);
      if (previous) return previous;
      if (taken) throw nameTaken(image);
      // One more image, and one more receiving data until its operation ends.
      await assertWithinLimits(tx, limits, image.folderId, {
        image_count_total: 1,
        image_count_uploading: 1,
      });
      await tx.images.insert(image);
      return recordImageOperation(tx, principal, image, {
        kind: "image.create",
        description: input.operationDescription,
        idempotencyKey: input.idempotencyKey,
        task: {
          type: "create",
          source,
          allowedFormats: formatsForCreate(deps.formats, input.kind, input.source.type),
          inherit: {
            osType: input.osType === null,
            productIds: input.productIds === null,
            minDiskSize: input.minDiskSize === 0,
          },
          formats: "detected",
          onFailure: "kill",
          ...(input.convertTo ? { convertTo: input.convertTo } : {}),
        },
      });
    })
    .catch(async (err: unknown) => {
      // The same key raced in without a name to wait on: the first attempt won, replay it.
      const previous =
        isVitrineError(err) && err.reason === "IDEMPOTENCY_REPLAY" ? await replayOf(catalog) : null;
      if (previous) return previous;
      throw err;
    });
  deps.queue.kick();
  return op;
}

/** A source image must be usable by the caller and hold its data; returns its id. */
async function checkSourceImage(
  stores: CatalogStores,
  principal: Principal,
  kind: ImageKind,
  sourceId: string,
): Promise<string> {
  const source = await loadImage(stores, principal, "images.use", { kind, id: sourceId });
  if (!isActive(source)) throw failedPrecondition(`Image ${sourceId} is not ready to be used as a source`);
  assertNotObsolete(source);
  return source.id;
}
