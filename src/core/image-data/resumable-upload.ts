import type { Readable } from "node:stream";
import type { CoreDeps } from "../core-deps.js";
import { VitrineError, isVitrineError, notFound } from "../errors.js";
import { type DeclaredFormats, formatsForDeclared } from "../format-policy.js";
import { loadImage } from "../images/image-loader.js";
import { saveImage } from "../images/save-image.js";
import { isQueued, isReceivingUpload, transition, transitionRefused } from "../image-states.js";
import type { Image } from "../image.js";
import { newResourceId } from "../ids.js";
import { pendingTag } from "../ports/blob-store.js";
import type { ResumableUploadRecord } from "../ports/catalog.js";
import type { Compression, IngestResult } from "../ports/ingest.js";
import { meteredSource } from "../quotas/metered-source.js";
import { dataReservation, limitsOfImage, reserveData } from "../quotas/quota-guard.js";
import type { Principal } from "../principal.js";
import { settleUploadedData } from "./upload-image-data.js";

/**
 * How long a request holds an upload without a word (a checkpoint or a renewal every
 * RENEW_MS): a request on a node that died lets go after this, one on a node that restarted on
 * the same machine at once (its old node record is gone).
 */
const LEASE_MS = 30_000;
const RENEW_MS = 10_000;

type Deps = Pick<
  CoreDeps,
  | "catalog"
  | "blobs"
  | "stores"
  | "ingest"
  | "resumableIngest"
  | "resumableExpiryMs"
  | "formats"
  | "maxImageBytes"
  | "nodeId"
  | "limits"
  | "decompress"
  | "converter"
  | "conversion"
>;

/** A resumable upload as a request names it: the image's id (the OpenStack one) and its own. */
export interface UploadRef {
  imageUuid: string;
  uploadId: string;
}

/** Where a resumable upload stands (tus HEAD). */
export interface ResumableUploadState {
  id: string;
  offset: number;
  length: number;
  expiresAt: number;
}

export interface BeginResumableInput {
  mode: "file" | "stage";
  formatsByDeclared: DeclaredFormats;
  /** The whole data's length (tus Upload-Length). */
  length: number;
}

/**
 * Starts a resumable upload into a queued image (README "Resumable transfers"): the image is
 * `saving` (file) or `uploading` (stage) from now on, its length is held against the project's
 * quota, and the upload is the starting project's and subject's alone. Nothing is received yet.
 */
export async function beginResumableUpload(
  deps: Deps,
  principal: Principal,
  uuid: string,
  input: BeginResumableInput,
): Promise<ResumableUploadState> {
  const { catalog } = deps;
  if (input.length > deps.maxImageBytes) {
    throw new VitrineError(
      "PAYLOAD_TOO_LARGE",
      `Image data exceeds the size limit of ${deps.maxImageBytes} bytes`,
    );
  }
  const receiving = input.mode === "file" ? "saving" : "uploading";
  const limits = await limitsOfImage(deps, principal, uuid);
  const id = newResourceId();
  const now = Date.now();
  const record = await catalog.transaction(async (tx) => {
    const current = await loadImage(tx, principal, "images.update", { uuid });
    if (!isQueued(current)) throw transitionRefused(current.status, receiving);
    const allowed = formatsForDeclared(deps.formats, input.formatsByDeclared, current, "saving");
    await reserveData(
      tx,
      limits,
      dataReservation(current, input.length, input.mode === "stage", deps.nodeId),
      {
        image_count_uploading: 1,
      },
    );
    const record: ResumableUploadRecord = {
      id,
      imageId: current.id,
      mode: input.mode,
      ownerProject: principal.projectId,
      ownerSubject: principal.subjectId,
      length: input.length,
      offset: 0,
      blobKey: newResourceId(),
      allowedFormats: allowed,
      label: `${input.formatsByDeclared.field} ${current.diskFormat}`,
      // The store's first checkpoint comes once the row exists (its data is only kept with one).
      checkpoint: "",
      createdAt: now,
      updatedAt: now,
      expiresAt: now + deps.resumableExpiryMs,
    };
    await tx.resumableUploads.create(record);
    await saveImage(tx, current, transition(current, receiving), uuid);
    return record;
  });
  try {
    const checkpoint = await deps.resumableIngest.begin(record.blobKey, tagOf(record), record.length);
    await catalog.resumableUploads.start(id, checkpoint);
  } catch (err) {
    await endResumableUpload(deps, record);
    throw err;
  }
  return stateOf(record);
}

/**
 * Where the upload stands: the offset to send from (tus HEAD). A client asks before it resumes,
 * so a request of its still appending on this node is one it gave up (a reload, a reconnect the
 * server has not noticed yet): it is stopped first, and the offset includes what it received.
 */
export async function resumableUploadState(
  deps: Deps,
  principal: Principal,
  ref: UploadRef,
): Promise<ResumableUploadState> {
  let upload = await ownUpload(deps, principal, ref);
  const earlier = ACTIVE.get(ref.uploadId);
  if (earlier && !earlier.settling) {
    await earlier.stop();
    upload = await ownUpload(deps, principal, ref);
  }
  return stateOf(upload);
}

export interface AppendInput {
  /** Where the client says its bytes start (tus Upload-Offset): must be the upload's offset. */
  offset: number;
  source: Readable;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/**
 * Appends a request's bytes to a resumable upload, from its stored offset. What arrives is kept
 * up to the last checkpoint even when the request is cut; once the data is whole it is checked
 * like a one-go upload's and settles the image (`image` set). One request appends at a time: a
 * new one on this node stops the one before (a client that reconnected first), on another node
 * it waits for the lease (UPLOAD_LOCKED).
 */
export async function appendResumableUpload(
  deps: Deps,
  principal: Principal,
  ref: UploadRef,
  input: AppendInput,
): Promise<{ offset: number; expiresAt: number; image: Image | null }> {
  const { catalog } = deps;
  const id = ref.uploadId;
  await ownUpload(deps, principal, ref);
  const earlier = ACTIVE.get(id);
  if (earlier?.settling) throw locked();
  await earlier?.stop();

  const holder = `${deps.nodeId}/${newResourceId()}`;
  const leased = () => {
    const now = Date.now();
    return catalog.resumableUploads.lease(
      id,
      { holder, nodeId: deps.nodeId, until: now + LEASE_MS },
      now,
      now - LEASE_MS,
    );
  };
  if (!(await leased())) throw locked();
  const stopped = new AbortController();
  const signal = AbortSignal.any([input.signal, stopped.signal]);
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const active: ActiveRequest = { settling: false, stop: () => (stopped.abort(takenOver()), done) };
  ACTIVE.set(id, active);
  const renewal = setInterval(() => {
    catalog.resumableUploads.renew(id, holder, Date.now() + LEASE_MS).then(
      (held) => held || stopped.abort(takenOver()),
      () => {},
    );
  }, RENEW_MS);
  renewal.unref();
  try {
    const record = await catalog.resumableUploads.find(id);
    if (!record || record.checkpoint === "") throw uploadNotFound(id);
    if (input.offset !== record.offset) {
      throw new VitrineError(
        "FAILED_PRECONDITION",
        `The upload's offset is ${record.offset}, not ${input.offset}: send from ${record.offset}`,
      ).because("UPLOAD_OFFSET_MISMATCH", { offset: String(record.offset), requested: String(input.offset) });
    }
    let result;
    try {
      result = await deps.resumableIngest.append({
        checkpoint: record.checkpoint,
        source: input.source,
        signal,
        length: record.length,
        maxVirtualSize: deps.formats.maxVirtualSize,
        allowedFormats: record.allowedFormats,
        sourceLabel: record.label,
        onCheckpoint: async (offset, checkpoint) => {
          const now = Date.now();
          const held = await catalog.resumableUploads.checkpoint(id, holder, {
            offset,
            checkpoint,
            now,
            expiresAt: now + deps.resumableExpiryMs,
            leaseUntil: now + LEASE_MS,
          });
          // Another request took the upload over (or it ended): this one stops here.
          if (!held) throw takenOver();
        },
      });
    } catch (err) {
      // The data was refused (its format, a finding, a bomb): the upload cannot succeed any more.
      if (isRefusal(err)) await endResumableUpload(deps, record);
      throw err;
    }
    const expiresAt = Date.now() + deps.resumableExpiryMs;
    if (result.stored === null) return { offset: result.offset, expiresAt, image: null };
    // The data is whole and stored: what is left (a conversion, the image's change) is the
    // server's, finished even if the client goes away, and no later request stops it.
    active.settling = true;
    const stored = { ...result.stored, key: record.blobKey, store: deps.stores.defaultStore };
    return { offset: result.offset, expiresAt, image: await settle(deps, record, stored) };
  } finally {
    clearInterval(renewal);
    await catalog.resumableUploads.release(id, holder).catch(() => {});
    if (ACTIVE.get(id) === active) ACTIVE.delete(id);
    finished();
  }
}

/** Gives the upload up (tus termination): the image is queued again, its data and quota released. */
export async function cancelResumableUpload(deps: Deps, principal: Principal, ref: UploadRef): Promise<void> {
  const record = await ownUpload(deps, principal, ref);
  await ACTIVE.get(ref.uploadId)?.stop();
  await endResumableUpload(deps, record);
}

/** Gives up every upload nobody appended to within the expiry; returns their image ids. */
export async function expireResumableUploads(deps: Deps, now = Date.now()): Promise<string[]> {
  const expired: string[] = [];
  for (const record of await deps.catalog.resumableUploads.expired(now)) {
    await endResumableUpload(deps, record);
    expired.push(record.imageId);
  }
  return expired;
}

/** Requests appending on this node, by upload: a new request stops the one before. */
const ACTIVE = new Map<string, ActiveRequest>();

interface ActiveRequest {
  /** Past the last byte: settling the image, which nothing stops. */
  settling: boolean;
  /** Stops the request; resolves once it has let go (its last checkpoint written). */
  stop: () => Promise<void>;
}

function locked(): VitrineError {
  return new VitrineError(
    "ABORTED",
    "Another request is appending to this upload; retry once it has stopped",
  ).because("UPLOAD_LOCKED");
}

/**
 * The upload, when it is the named image's, the caller started it (same project and subject) and
 * may still update its image.
 */
async function ownUpload(deps: Deps, principal: Principal, ref: UploadRef): Promise<ResumableUploadRecord> {
  const id = ref.uploadId;
  const record = await deps.catalog.resumableUploads.find(id);
  // Someone else's upload is answered as absent: its id tells them nothing.
  if (
    !record ||
    record.checkpoint === "" ||
    record.ownerProject !== principal.projectId ||
    record.ownerSubject !== principal.subjectId
  ) {
    throw uploadNotFound(id);
  }
  if (record.expiresAt < Date.now()) {
    await endResumableUpload(deps, record);
    throw uploadNotFound(id);
  }
  const image = await loadImage(deps.catalog, principal, "images.update", { uuid: ref.imageUuid });
  if (image.id !== record.imageId) throw uploadNotFound(id);
  return record;
}

/** The whole data arrived: decompressed when it came compressed, then the image's. */
async function settle(
  deps: Deps,
  record: ResumableUploadRecord,
  arrived: IngestResult & { compression: Compression | null },
): Promise<Image> {
  // A settle outlives the request that brought the last byte: nobody aborts it.
  const signal = new AbortController().signal;
  const { catalog, blobs } = deps;
  const image = await catalog.images.findById(record.imageId);
  if (!image) throw uploadNotFound(record.id);
  const limits = await deps.limits.limitsFor(image.folderId);
  const reservation = dataReservation(image, record.length, record.mode === "stage", deps.nodeId);
  const reserve = (bytes: number) =>
    catalog.transaction((tx) => reserveData(tx, limits, { ...reservation, bytes }));
  const tag = tagOf(record);
  let stored: IngestResult = arrived;
  const compression = arrived.compression;
  if (compression !== null) {
    // Compressed data is stored as it came, then read once more through the decompressor and the
    // ordinary ingest, exactly as a one-go upload of it would have been.
    try {
      stored = await deps.ingest({
        source: meteredSource(
          deps.decompress(await blobs.read(arrived.key), record.label, () => {}),
          record.length,
          reserve,
        ),
        key: newResourceId(),
        tag,
        signal,
        maxBytes: deps.maxImageBytes,
        allowedFormats: record.allowedFormats,
        maxVirtualSize: deps.formats.maxVirtualSize,
        sourceLabel: record.label,
        sourceKind: record.mode === "file" ? "upload" : "stage",
      });
    } catch (err) {
      await blobs.delete(arrived.key);
      if (isRefusal(err)) await endResumableUpload(deps, record);
      throw err;
    }
    await blobs.delete(arrived.key);
  }
  return settleUploadedData(deps, {
    image,
    uuid: image.uuid,
    mode: record.mode,
    stored,
    compression,
    tag,
    signal,
    label: record.label,
    reserve,
    claim: async (tx) => {
      if (!(await tx.resumableUploads.find(record.id))) return false;
      await tx.resumableUploads.remove(record.id);
      return true;
    },
    requeue: () => endResumableUpload(deps, record),
  });
}

/**
 * Ends an upload that will not complete: its row goes, the image is queued again (unless it
 * moved on), the quota it held is released and its pending data removed.
 */
async function endResumableUpload(deps: Deps, record: ResumableUploadRecord): Promise<void> {
  await deps.catalog.transaction(async (tx) => {
    if (!(await tx.resumableUploads.find(record.id))) return;
    await tx.resumableUploads.remove(record.id);
    await tx.quotas.release(record.imageId);
    const image = await tx.images.findById(record.imageId);
    if (image && isReceivingUpload(image)) await saveImage(tx, image, transition(image, "queued"));
  });
  await deps.blobs.discardPending(tagOf(record));
}

const tagOf = (record: ResumableUploadRecord) => pendingTag({ type: "resumable", uploadId: record.id });

function stateOf(record: ResumableUploadRecord): ResumableUploadState {
  return {
    id: record.id,
    offset: record.offset,
    length: record.length,
    expiresAt: record.expiresAt,
  };
}

function uploadNotFound(id: string): VitrineError {
  return notFound(`Upload ${id} not found: it completed, was cancelled, or expired`).because(
    "UPLOAD_NOT_FOUND",
    { id },
  );
}

function takenOver(): VitrineError {
  return new VitrineError("ABORTED", "The upload was taken over by another request").because(
    "UPLOAD_TAKEN_OVER",
  );
}

/** The data itself was refused (not a cut connection, nor a store that failed). */
function isRefusal(err: unknown): boolean {
  return isVitrineError(err) && (err.code === "INVALID_ARGUMENT" || err.code === "PAYLOAD_TOO_LARGE");
}
