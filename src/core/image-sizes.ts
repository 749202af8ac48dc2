import { invalidArgument } from "./errors.js";

/** One gibibyte: disks, minimum disk sizes and Glance's min_disk are counted in these. */
export const GIB = 1024 ** 3;

/**
 * The largest disk anything here deals with: the Compute API's bound on minDiskSize, and the
 * default limit of an image's bytes and of the virtual size an image may declare.
 */
export const FOUR_TIB = 4 * 1024 ** 4;

/** The Compute API's bounds on minDiskSize: 4 MiB to 4 TiB. */
export const MIN_DISK_SIZE_LOWER = 4 * 1024 * 1024;
export const MIN_DISK_SIZE_UPPER = FOUR_TIB;

/**
 * The minDiskSize an image gets when the request names none: its data size (the larger of the
 * stored and virtual sizes) rounded up to whole GiB, as disks are sized in GiB, and never below
 * the API's lower bound.
 */
export function defaultMinDiskSize(dataSize: number): number {
  return Math.max(MIN_DISK_SIZE_LOWER, Math.ceil(dataSize / GIB) * GIB);
}

/** An image's minDiskSize may not be below the data it holds (its stored or virtual size). */
export function assertMinDiskSizeCovers(minDiskSize: number, dataSize: number): void {
  if (minDiskSize < dataSize) {
    throw invalidArgument(
      `minDiskSize: must be at least ${dataSize} bytes (the image's size), not ${minDiskSize}`,
      [{ field: "minDiskSize", description: `must be at least ${dataSize} (the image's size)` }],
    );
  }
}

/** The larger of an image's stored and virtual sizes, 0 while unknown. */
export function dataSizeOf(image: { size: number | null; virtualSize: number | null }): number {
  return Math.max(image.size ?? 0, image.virtualSize ?? 0);
}
