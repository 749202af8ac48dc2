import { createHash } from "node:crypto";
import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, invalidArgument, isVitrineError, permissionDenied } from "../errors.js";
import type { DeclaredFormats } from "../format-policy.js";
import { loadImage } from "../images/image-loader.js";
import { saveImage } from "../images/save-image.js";
import { isActive, isQueued } from "../image-states.js";
import type { Image, SourceLocation } from "../image.js";
import type { Principal } from "../principal.js";
import { storeLocationsOf } from "./image-stores.js";
import { type ExpectedChecksums, uploadImageData } from "./upload-image-data.js";

/**
 * Glance's writable locations, made safe (README "Stores, cache and regions"): a location is a
 * URL the image's data is read from — through the import URL policy, hashed and inspected like
 * any data — and kept only if it is that data. On a queued image the first location brings the
 * data in (an upload from the URL, its validation data checked); on an active one a location is
 * added once its bytes are found identical to the image's. What is served is always the stored
 * copy: no byte leaves the service that it did not read, hash and inspect itself.
 */
type Deps = Parameters<typeof uploadImageData>[0] & Pick<CoreDeps, "sources" | "urls" | "writableLocations">;

export interface NewLocation {
  url: string;
  metadata: Record<string, unknown>;
  validation: ExpectedChecksums | null;
  formatsByDeclared: DeclaredFormats;
  signal: AbortSignal;
}

/** The locations an image shows: the URLs its data came from, else where its stores keep it. */
export function locationsOf(image: Image, deps: Pick<CoreDeps, "stores">): SourceLocation[] {
  if (image.sourceLocations.length > 0) return image.sourceLocations;
  return storeLocationsOf(image, deps).map(({ url, store }) => ({ url, metadata: { store } }));
}

export async function addSourceLocation(
  deps: Deps,
  principal: Principal,
  uuid: string,
  location: NewLocation,
): Promise<Image> {
  assertWritable(deps);
  try {
    deps.urls.check(location.url, "locations");
  } catch (err) {
    if (isVitrineError(err)) throw err.because("URI_REFUSED", { uri: location.url });
    throw err;
  }
  const image = await loadImage(deps.catalog, principal, "images.update", { uuid });
  const entry = { url: location.url, metadata: location.metadata };
  if (isQueued(image)) {
    const data = await deps.sources.open({ type: "uri", uri: location.url }, location.signal);
    const active = await uploadImageData(deps, principal, uuid, {
      source: data.stream,
      signal: location.signal,
      mode: "file",
      formatsByDeclared: location.formatsByDeclared,
      announcedBytes: data.length,
      ...(location.validation ? { expected: location.validation } : {}),
    });
    return setLocations(deps, active.id, [entry]);
  }
  if (!isActive(image) || !image.checksumSha512) {
    throw failedPrecondition(
      `Image ${uuid} is ${image.status}: locations are added to queued or active images`,
    ).because("STATUS_CONFLICT");
  }
  const v = location.validation;
  if ((v?.md5 && v.md5 !== image.checksumMd5) || (v?.sha512 && v.sha512 !== image.checksumSha512)) {
    throw failedPrecondition("The location's validation data differs from the image's checksums");
  }
  // Another location of the same data: its bytes are read and compared, not trusted.
  const data = await deps.sources.open({ type: "uri", uri: location.url }, location.signal);
  const hash = createHash("sha512");
  let size = 0;
  for await (const chunk of data.stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (image.size !== null && size > image.size) {
      data.stream.destroy();
      break;
    }
  }
  if (size !== image.size || hash.digest("hex") !== image.checksumSha512) {
    throw invalidArgument(
      `The data at ${location.url} is not image ${uuid}'s data: the location is not added`,
    );
  }
  return setLocations(deps, image.id, [...image.sourceLocations, entry]);
}

/** A replaced list may give the locations new metadata only: the same URLs, in the same order. */
export async function replaceSourceLocations(
  deps: Deps,
  principal: Principal,
  uuid: string,
  locations: { url: string; metadata: Record<string, unknown> }[],
): Promise<Image> {
  assertWritable(deps);
  const image = await loadImage(deps.catalog, principal, "images.update", { uuid });
  const current = image.sourceLocations;
  const same = current.length === locations.length && current.every((l, i) => l.url === locations[i]!.url);
  if (!same) {
    throw invalidArgument(
      "Locations can only be given new metadata here: add a location with add /locations/-, remove one with remove /locations/N",
    );
  }
  return setLocations(deps, image.id, locations);
}

/** Removes one location; the last one stays (the image would name none of its sources). */
export async function removeSourceLocation(
  deps: Deps,
  principal: Principal,
  uuid: string,
  index: number,
): Promise<Image> {
  assertWritable(deps);
  const image = await loadImage(deps.catalog, principal, "images.update", { uuid });
  const current = image.sourceLocations;
  if (current.length <= 1) throw permissionDenied("Cannot remove the last location of an image.");
  if (!Number.isInteger(index) || index < 0 || index >= current.length) {
    throw invalidArgument(`Invalid location index ${index}: the image has ${current.length} locations`);
  }
  return setLocations(
    deps,
    image.id,
    current.filter((_, i) => i !== index),
  );
}

function assertWritable(deps: Pick<CoreDeps, "writableLocations">): void {
  if (!deps.writableLocations) {
    throw permissionDenied("Locations are not writable here (VITRINE_SHOW_LOCATIONS is off).");
  }
}

async function setLocations(
  deps: Pick<CoreDeps, "catalog">,
  id: string,
  locations: SourceLocation[],
): Promise<Image> {
  return deps.catalog.transaction(async (tx) => {
    const current = await tx.images.findById(id);
    if (!current) throw failedPrecondition(`Image ${id} is gone`);
    return saveImage(tx, current, { ...current, sourceLocations: locations });
  });
}
