import { after } from "node:test";
import { type PgS3Servers, startPgS3Servers } from "./pg-s3.js";

/**
 * `VITRINE_TEST_BACKEND=pg-s3` runs the API suites' servers on PostgreSQL + S3 instead of the
 * embedded default: one PostgreSQL cluster and one Swift per test file, a fresh database and
 * bucket per data directory (a server restarted on the same directory finds its catalog again).
 */
export const TEST_BACKEND = process.env.VITRINE_TEST_BACKEND === "pg-s3" ? "pg-s3" : "embedded";

let servers: Promise<PgS3Servers> | null = null;
const byDataDir = new Map<string, Record<string, string>>();

// Registered when this module loads (at the top of a test file): stops the servers once the
// file's tests are done (its own `after` hooks stop the Vitrine servers first).
if (TEST_BACKEND === "pg-s3") {
  after(async () => {
    if (servers) await (await servers).stop();
  });
}

/** The environment a server on `dataDir` needs for the selected backend. */
export async function backendEnv(dataDir: string): Promise<Record<string, string>> {
  if (TEST_BACKEND === "embedded") return {};
  const known = byDataDir.get(dataDir);
  if (known) return known;
  const { env } = await (await (servers ??= startPgS3Servers())).newInstallation();
  byDataDir.set(dataDir, env);
  return env;
}
