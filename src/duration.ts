const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * A duration as people write it in settings and flags — 90s, 15m, 12h, 30d, or a plain number of
 * seconds — in seconds; null when it is none of those.
 */
export function parseDurationSeconds(raw: string): number | null {
  const m = /^(\d+)([smhd])?$/.exec(raw.trim());
  if (!m) return null;
  const n = Number(m[1]) * UNIT_SECONDS[(m[2] ?? "s") as keyof typeof UNIT_SECONDS];
  return Number.isSafeInteger(n) ? n : null;
}

/** Seconds as the shortest of those forms that is exact (7d, 36h, 90s). */
export function formatDurationSeconds(seconds: number): string {
  for (const unit of ["d", "h", "m"] as const) {
    if (seconds > 0 && seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  }
  return `${seconds}s`;
}
