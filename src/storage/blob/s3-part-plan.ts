const MIB = 1024 * 1024;

/**
 * How a blob of unknown length is cut into the parts of a multipart upload. S3 allows 10,000
 * parts of at most 5 GiB (at least 5 MiB but the last), and the length of an upload is not known
 * in advance (chunked uploads, imports without Content-Length), so parts grow: `firstPartBytes`
 * for the first 2 × `partsPerStep` parts, then doubling every `partsPerStep`, up to
 * `maxPartBytes`. With the defaults 10,000 parts hold about 7.8 TiB (S3's own object limit is
 * 5 TiB) while an image of less than 31 GiB never uses a part above 16 MiB.
 */
export interface PartPlan {
  firstPartBytes: number;
  partsPerStep: number;
  maxPartBytes: number;
  /** Parts up to this size are buffered in memory; larger ones are spooled to a file. */
  memoryPartBytes: number;
  /** Parts uploading at once while the next one fills. */
  partsInFlight: number;
}

export const DEFAULT_PART_PLAN: PartPlan = {
  firstPartBytes: 16 * MIB,
  partsPerStep: 1000,
  maxPartBytes: 4096 * MIB,
  memoryPartBytes: 16 * MIB,
  partsInFlight: 2,
};

export const MAX_PARTS = 10_000;

/** The size part `partNumber` (from 1) is filled to. */
export function partSize(plan: PartPlan, partNumber: number): number {
  const doublings = Math.max(0, Math.floor((partNumber - 1) / plan.partsPerStep) - 1);
  return Math.min(plan.maxPartBytes, plan.firstPartBytes * 2 ** doublings);
}
