import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { s3Client } from "../../src/storage/blob/s3-blob-store.js";
import { type PostgresServer, startPostgres } from "./postgres.js";
import { type SwiftS3, startSwiftS3 } from "./swift.js";

/** A private PostgreSQL cluster and a one-node Swift with s3api, for installations at scale. */
export interface PgS3Servers {
  pg: PostgresServer;
  swift: SwiftS3;
  /** A client of the S3 server (the SDK's credentials are set in this process's environment). */
  s3: S3Client;
  /** A fresh database and bucket, and the environment a Vitrine node needs to use them. */
  newInstallation(): Promise<{ databaseUrl: string; bucket: string; env: Record<string, string> }>;
  stop(): Promise<void>;
}

let installations = 0;

export async function startPgS3Servers(): Promise<PgS3Servers> {
  const [pg, swift] = await Promise.all([startPostgres(), startSwiftS3()]);
  process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
  const s3 = s3Client({ endpoint: swift.endpoint, region: swift.region, forcePathStyle: true });
  return {
    pg,
    swift,
    s3,
    async newInstallation() {
      const bucket = `vitrine-${process.pid}-${++installations}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const databaseUrl = await pg.createDatabase();
      const env = {
        VITRINE_DATABASE_URL: databaseUrl,
        VITRINE_BLOB_STORE: `s3://${bucket}/vitrine`,
        VITRINE_S3_ENDPOINT: swift.endpoint,
        AWS_ACCESS_KEY_ID: swift.accessKeyId,
        AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
      };
      return { databaseUrl, bucket, env };
    },
    async stop() {
      s3.destroy();
      pg.stop();
      await swift.stop();
    },
  };
}
