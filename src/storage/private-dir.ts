import fsp from "node:fs/promises";

/**
 * Makes `dir` (the data directory: catalog, blobs, admin token) private to the service's user:
 * created 0700, and tightened to 0700 when an older installation left it readable by others.
 * Returns the mode it had when it had to be tightened, or null.
 */
export async function makePrivateDir(dir: string): Promise<number | null> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const mode = (await fsp.stat(dir)).mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  await fsp.chmod(dir, mode & 0o700);
  return mode;
}
