const GIB = 1024 ** 3;

/** The Compute API's bounds on minDiskSize: 4 MiB to 4 TiB. */
export const MIN_DISK_SIZE_LOWER = 4 * 1024 * 1024;
export const MIN_DISK_SIZE_UPPER = 4 * 1024 ** 4;

/**
 * The minDiskSize an image gets when the request names none: its data size (the larger of the
 * stored and virtual sizes) rounded up to whole GiB, as disks are sized in GiB, and never below
 * the API's lower bound.
 */
export function defaultMinDiskSize(dataSize: number): number {
  return Math.max(MIN_DISK_SIZE_LOWER, Math.ceil(dataSize / GIB) * GIB);
}
