import type { Readable } from "node:stream";
import type { CoreDeps } from "../core-deps.js";
import { invalidArgument } from "../errors.js";
import { type DeclaredFormats, formatsForDeclared } from "../format-policy.js";
import { imageNotFound, loadImage } from "../images/image-loader.js";
import { saveImage } from "../images/save-image.js";
import { isQueued, isReceivingUpload, transition, transitionRefused } from "../image-states.js";
import { type Image, dataFields } from "../image.js";
import { newResourceId } from "../ids.js";
import { pendingTag } from "../ports/blob-store.js";
import type { CatalogStores, UploadRecord } from "../ports/catalog.js";
import { meteredSource } from "../quotas/metered-source.js";
import { dataReservation, limitsOfImage, reserveData } from "../quotas/quota-guard.js";
import type { Compression, IngestResult } from "../ports/ingest.js";
import { NO_CONVERSION } from "../conversion/conversion-policy.js";
import { type KeptData, conversionPolicyOf, keepData } from "../conversion/convert-data.js";
import type { Principal } from "../principal.js";
import { assertStoreExists } from "./image-stores.js";

export interface UploadInput {
  source: Readable;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** "file": the data activates the image; "stage": it waits (`uploading`) for an import. */
  mode: "file" | "stage";
  /** The detected formats each declared format accepts (the format policy may relax this). */
  formatsByDeclared: DeclaredFormats;
  /** The length the client announced (Content-Length, x-openstack-image-size); null: counted as it streams. */
  announcedBytes: number | null;
  /** The named store to keep the data in (Glance's X-Image-Meta-Store); null: the default one. */
  store?: string | null;
  /** Checksums the data must have (a location's validation data): other data is refused, not kept. */
  expected?: ExpectedChecksums;
}

/** Checksums data is expected to have (each optional). */
export interface ExpectedChecksums {
  md5?: string;
  sha512?: string;
}

/**
 * Stores the data of a queued image streamed by the caller (OpenStack PUT file and stage),
 * through the same ingest as every other path. Any failure — a refused format, a client gone
 * mid-stream, the size limit — puts the image back to `queued` with no bytes kept.
 */
export async function uploadImageData(
  deps: Pick<
    CoreDeps,
    | "catalog"
    | "blobs"
    | "stores"
    | "ingest"
    | "formats"
    | "maxImageBytes"
    | "nodeId"
    | "limits"
    | "decompress"
    | "converter"
    | "conversion"
  >,
  principal: Principal,
  uuid: string,
  input: UploadInput,
): Promise<Image> {
  const { catalog } = deps;
  if (input.store) assertStoreExists(deps, input.store);
  const receiving = input.mode === "file" ? "saving" : "uploading";
  const key = newResourceId();
  const limits = await limitsOfImage(deps, principal, uuid);
  const { image, allowedFormats, reservation } = await catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", { uuid });
    if (!isQueued(current)) throw transitionRefused(current.status, receiving);
    const allowed = formatsForDeclared(deps.formats, input.formatsByDeclared, current, "saving");
    // The bytes it announced are held before any arrives (counted as they come when it announced
    // none), and it is one more image receiving data.
    const reservation = dataReservation(
      current,
      input.announcedBytes ?? 0,
      input.mode === "stage",
      deps.nodeId,
    );
    await reserveData(tx, limits, reservation, { image_count_uploading: 1 });
    // Recorded with the image's change: if this node dies mid-stream, another puts it back.
    await tx.uploads.begin({ imageId: current.id, nodeId: deps.nodeId, blobKey: key, startedAt: Date.now() });
    return {
      image: await saveImage(tx, current, transition(current, receiving), uuid),
      allowedFormats: allowed,
      reservation,
    };
  });

  const upload: UploadRef = { imageId: image.id, nodeId: deps.nodeId, blobKey: key };
  const label = `${input.formatsByDeclared.field} ${image.diskFormat}`;
  const tag = pendingTag({ type: "upload", imageId: image.id });
  let stored: IngestResult;
  let compression: Compression | null = null;
  const reserve = (bytes: number) =>
    catalog.transaction((tx) => reserveData(tx, limits, { ...reservation, bytes }));
  try {
    stored = await deps.ingest({
      // Counted as stored (decompressed): the quota holds what the image will take.
      source: meteredSource(
        deps.decompress(input.source, label, (found) => (compression = found)),
        reservation.bytes,
        reserve,
      ),
      key,
      ...(input.store ? { store: input.store } : {}),
      tag,
      signal: input.signal,
      maxBytes: deps.maxImageBytes,
      allowedFormats,
      maxVirtualSize: deps.formats.maxVirtualSize,
      sourceLabel: label,
      sourceKind: input.mode === "file" ? "upload" : "stage",
    });
  } catch (err) {
    await requeueUpload(deps, upload);
    throw err;
  }

  return settleUploadedData(deps, {
    image,
    uuid,
    mode: input.mode,
    ...(input.expected ? { expected: input.expected } : {}),
    stored,
    compression,
    tag,
    signal: input.signal,
    label,
    reserve,
    claim: async (tx) => {
      if (!(await holdsUpload(tx, upload))) return false;
      await tx.uploads.end(image.id);
      return true;
    },
    requeue: () => requeueUpload(deps, upload),
  });
}

/** How an upload that received all its data hands it to its image. */
export interface SettleInput {
  image: Image;
  uuid: string;
  mode: "file" | "stage";
  /** The data as it was committed. */
  stored: IngestResult;
  compression: Compression | null;
  tag: string;
  signal: AbortSignal;
  label: string;
  /** Holds `bytes` for the image (a conversion's result may be larger than what arrived). */
  reserve: (bytes: number) => Promise<void>;
  /** In the transaction that settles the image: whether the upload is still this one (and ends it). */
  claim: (tx: CatalogStores) => Promise<boolean>;
  /** Puts the image back to queued after a failure. */
  requeue: () => Promise<void>;
  /** Checksums the data must have; other data is refused before it becomes the image's. */
  expected?: ExpectedChecksums;
}

/**
 * The data of an upload, all arrived and committed, becomes its image's: converted now as its
 * folder's policy says when it activates the image (staged data is converted when it is
 * imported; the client's request waits for it), then `active` (file) or still `uploading`
 * (stage) with the data's fields. Whatever fails, nothing the upload committed is left behind.
 */
export async function settleUploadedData(
  deps: Pick<CoreDeps, "catalog" | "blobs" | "formats" | "converter" | "conversion" | "maxImageBytes">,
  input: SettleInput,
): Promise<Image> {
  const { catalog, blobs } = deps;
  const { image, stored, uuid } = input;
  let kept: KeptData = { data: stored, converted: false, properties: {} };
  /** Removes what this upload committed: what arrived, and what it was converted to. */
  const dropData = () =>
    Promise.all([blobs.delete(stored.key), kept.converted ? blobs.delete(kept.data.key) : null]);
  try {
    assertChecksums(stored, input.expected);
    const policy =
      input.mode === "file" ? await conversionPolicyOf(catalog, deps, image.folderId) : NO_CONVERSION;
    kept = await keepData(deps, policy, stored, input.compression, {
      key: newResourceId(),
      tag: input.tag,
      signal: input.signal,
      label: input.label,
    });
    if (kept.converted) await input.reserve(kept.data.size);
  } catch (err) {
    await input.requeue();
    await dropData();
    throw err;
  }
  const data = kept.data;

  let activated: Image;
  try {
    activated = await catalog.transaction(async (tx) => {
      const current = await tx.images.findById(image.id);
      if (!current || !isReceivingUpload(current) || !(await input.claim(tx))) {
        throw imageNotFound({ uuid });
      }
      await tx.quotas.release(image.id); // settled: the image's own size counts from now on
      const to = input.mode === "file" ? "active" : "uploading";
      const fields = {
        ...dataFields(data),
        ...(kept.converted ? { diskFormat: data.format } : {}),
        ...(Object.keys(kept.properties).length > 0
          ? { properties: { ...current.properties, ...kept.properties } }
          : {}),
      };
      return saveImage(tx, current, transition(current, to, fields), uuid);
    });
  } catch (err) {
    // Deleted, or given up as abandoned, while the bytes streamed in: the blob belongs to nobody.
    await dropData();
    throw err;
  }
  if (kept.converted) await blobs.delete(stored.key); // what arrived, now converted
  return activated;
}

/** Whether `upload` is still the image's upload (not ended, nor given up as abandoned). */
async function holdsUpload(tx: CatalogStores, upload: UploadRef): Promise<boolean> {
  const current = await tx.uploads.find(upload.imageId);
  return current !== null && current.nodeId === upload.nodeId && current.blobKey === upload.blobKey;
}

type UploadRef = Pick<UploadRecord, "imageId" | "nodeId" | "blobKey">;

/**
 * After a failed or abandoned upload: back to queued (Glance's behaviour: the data can be sent
 * again), unless the image moved on (deleted, or already another upload's). Its pending data is
 * the caller's to drop.
 */
export async function requeueUpload(deps: Pick<CoreDeps, "catalog">, upload: UploadRef): Promise<void> {
  await deps.catalog.transaction(async (tx) => {
    if (!(await holdsUpload(tx, upload))) return;
    await tx.uploads.end(upload.imageId);
    await tx.quotas.release(upload.imageId);
    const current = await tx.images.findById(upload.imageId);
    if (current && isReceivingUpload(current)) {
      await saveImage(tx, current, transition(current, "queued"));
    }
  });
}

/** Refuses data whose checksums are not the ones expected (a location's validation data). */
function assertChecksums(stored: IngestResult, expected: ExpectedChecksums | undefined): void {
  if (!expected) return;
  const wrong = [
    expected.md5 !== undefined && expected.md5 !== stored.md5 ? "checksum (MD5)" : null,
    expected.sha512 !== undefined && expected.sha512 !== stored.sha512 ? "os_hash_value (SHA-512)" : null,
  ].filter(Boolean);
  if (wrong.length > 0) {
    throw invalidArgument(
      `The data does not match its validation data: ${wrong.join(" and ")} differ from the data's own`,
    );
  }
}
