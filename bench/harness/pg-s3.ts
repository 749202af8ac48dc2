import { CreateBucketCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { sql } from "kysely";
import { S3BlobStore } from "../../src/storage/blob/s3-blob-store.js";
import { openPostgres } from "../../src/storage/meta/database.js";
import { startPgS3Servers } from "../../test/helpers/pg-s3.js";
import { MB } from "./measure.js";

/**
 * `--backend pg-s3`: Vitrine on a private PostgreSQL cluster and a one-node Swift with s3api (the
 * servers the tests use), with the S3 server's own speed through the AWS SDK as the reference.
 */
export interface PgS3 {
  env: Record<string, string>;
  databaseUrl: string;
  /** Inserts `count` images into `folder` (ids of their own per folder); returns the uuid at the deep page's position. */
  seed(count: number, deep: number, folder?: string): Promise<string>;
  /** MB/s of the S3 server itself: one file up (streamed multipart, 8 MiB parts) and down. */
  reference(file: string): Promise<{ upload: number; download: number }>;
  stop(): Promise<void>;
}

export async function startPgS3(): Promise<PgS3> {
  const servers = await startPgS3Servers();
  const { databaseUrl, env } = await servers.newInstallation();
  const client = servers.s3;
  await client.send(new CreateBucketCommand({ Bucket: "reference" }));
  return {
    databaseUrl,
    env,
    async seed(count, deep, folder = "big") {
      const db = openPostgres(databaseUrl);
      try {
        await sql`insert into images (id, uuid, kind, folder_id, name, status, created_at, updated_at, min_disk_size, size)
          select ${folder.slice(0, 1)}::text || lpad(to_hex(i), 19, '0'), gen_random_uuid()::text, 'compute', ${folder}, 'img-' || i, 'active',
                 1700000000000 + i, 1700000000000 + i, 1073741824, 1000
          from generate_series(0, ${count - 1}::int) as i`.execute(db);
        await sql`analyze images`.execute(db);
        const { rows } = await sql<{ uuid: string }>`select uuid from images where folder_id = ${folder}
          order by created_at desc, id desc offset ${deep} limit 1`.execute(db);
        return rows[0]!.uuid;
      } finally {
        await db.destroy();
      }
    },
    async reference(file) {
      const store = new S3BlobStore(client, { bucket: "reference", prefix: "" });
      const bytes = fs.statSync(file).size;
      let t = performance.now();
      const writer = await store.createWriter("ref", "ref");
      await pipeline(fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), writer.stream);
      await writer.commit();
      const upload = bytes / MB / ((performance.now() - t) / 1000);
      t = performance.now();
      const res = await client.send(new GetObjectCommand({ Bucket: "reference", Key: "blobs/ref" }));
      await pipeline(res.Body as NodeJS.ReadableStream, new Writable({ write: (_c, _e, done) => done() }));
      const download = bytes / MB / ((performance.now() - t) / 1000);
      await store.delete("ref");
      return { upload, download };
    },
    stop: () => servers.stop(),
  };
}
