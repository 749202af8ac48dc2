import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { after } from "node:test";
import { s3Client } from "../../src/storage/blob/s3-blob-store.js";
import { type PostgresServer, startPostgres } from "./postgres.js";
import { type SwiftS3, startSwiftS3 } from "./swift.js";

/**
 * `VITRINE_TEST_BACKEND=pg-s3` runs the API suites' servers on PostgreSQL + S3 instead of the
 * embedded default: one PostgreSQL cluster and one Swift per test file, a fresh database and
 * bucket per data directory (a server restarted on the same directory finds its catalog again).
 */
export const TEST_BACKEND = process.env.VITRINE_TEST_BACKEND === "pg-s3" ? "pg-s3" : "embedded";

let servers: Promise<{ pg: PostgresServer; swift: SwiftS3 }> | null = null;
const byDataDir = new Map<string, Record<string, string>>();
let buckets = 0;

// Registered when this module loads (at the top of a test file): stops the servers once the
// file's tests are done (its own `after` hooks stop the Vitrine servers first).
if (TEST_BACKEND === "pg-s3") {
  after(async () => {
    if (!servers) return;
    const { pg, swift } = await servers;
    pg.stop();
    await swift.stop();
  });
}

/** The environment a server on `dataDir` needs for the selected backend. */
export async function backendEnv(dataDir: string): Promise<Record<string, string>> {
  if (TEST_BACKEND === "embedded") return {};
  const known = byDataDir.get(dataDir);
  if (known) return known;
  servers ??= Promise.all([startPostgres(), startSwiftS3()]).then(([pg, swift]) => ({ pg, swift }));
  const { pg, swift } = await servers;
  const bucket = `api-${process.pid}-${++buckets}`;
  const client = s3Client({ endpoint: swift.endpoint, region: swift.region, forcePathStyle: true });
  process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  const env = {
    VITRINE_DATABASE_URL: await pg.createDatabase(),
    VITRINE_BLOB_STORE: `s3://${bucket}/vitrine`,
    VITRINE_S3_ENDPOINT: swift.endpoint,
    AWS_ACCESS_KEY_ID: swift.accessKeyId,
    AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
  };
  byDataDir.set(dataDir, env);
  return env;
}
