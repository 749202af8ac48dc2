import type { Readable } from "node:stream";
import type { CoreDeps } from "../core-deps.js";
import { VitrineError, permissionDenied } from "../errors.js";
import { loadImage } from "../images/image-loader.js";
import { readImageBlob } from "./image-stores.js";
import { hasData, isDeactivated } from "../image-states.js";
import type { Image } from "../image.js";
import { isObsolete } from "../lifecycle/lifecycle.js";
import { imageSent } from "../events/event.js";
import type { Principal } from "../principal.js";

export interface ImageDownload {
  image: Image;
  /** null when the image has no data yet. */
  stream: Readable | null;
  range: { start: number; end: number } | null;
}

/** Inclusive bytes from `start` to `end` (open-ended when null); `suffix`: the last bytes. */
export type ByteRange = { start: number; end: number | null } | { suffix: number };

/**
 * The image's bytes (or an inclusive range of them) for a reader. A deactivated image refuses
 * everyone but admins; an image without data yields no stream.
 */
export async function downloadImageData(
  deps: Pick<CoreDeps, "catalog" | "stores" | "cache">,
  principal: Principal,
  uuid: string,
  range: ByteRange | null,
): Promise<ImageDownload> {
  const image = await loadImage(deps.catalog, principal, "images.get", { uuid });
  if (isDeactivated(image) && !principal.isAdmin) {
    throw permissionDenied("The image is deactivated: its data cannot be downloaded").because("DEACTIVATED");
  }
  if (isObsolete(image) && !principal.isAdmin) {
    const replacement = image.deprecation.replacement;
    throw permissionDenied(
      `The image is obsolete: its data cannot be downloaded${replacement ? `; use its replacement ${replacement.uuid}` : ""}`,
    ).because("IMAGE_OBSOLETE", { id: image.uuid, replacement: replacement?.uuid ?? "" });
  }
  if (!hasData(image) || !image.blobKey || image.size === null) return { image, stream: null, range: null };

  let bounds: { start: number; end: number } | null = null;
  if (range) {
    const start = "suffix" in range ? Math.max(0, image.size - range.suffix) : range.start;
    const end = "suffix" in range ? image.size - 1 : Math.min(range.end ?? image.size - 1, image.size - 1);
    if (start >= image.size || start > end || ("suffix" in range && range.suffix === 0)) {
      throw new VitrineError(
        "OUT_OF_RANGE",
        `Requested range is not satisfiable: the image has ${image.size} bytes`,
      ).because("RANGE_NOT_SATISFIABLE", { size: String(image.size) });
    }
    bounds = { start, end };
  }
  // A use, recorded before the bytes flow (a cleanup asking "unused for 90 days" must not drop an
  // image a client is reading); a download in ranges counts once, by its first.
  if ((bounds?.start ?? 0) === 0) await deps.catalog.lifecycle.recordUse(image.id, Date.now());
  const stream = await readImageBlob(deps, image, bounds ?? undefined);
  // Glance's `image.send`, once the data (or the range) was read to its end: what billing counts.
  // Not a change of the catalog, so not in a transaction; an interrupted download sends none.
  const bytes = bounds ? bounds.end - bounds.start + 1 : image.size;
  const receiver = { project: principal.projectId, subject: principal.subjectId };
  stream.once(
    "end",
    () => void deps.catalog.events.append(imageSent(image, bytes, receiver)).catch(() => {}),
  );
  return { image, stream, range: bounds };
}
