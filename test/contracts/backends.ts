import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { MaintainedBlobStore } from "../../src/storage/blob/blob-inventory.js";
import type { ServiceCatalog } from "../../src/storage/meta/sql-catalog.js";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { FsBlobStore } from "../../src/storage/blob/fs-blob-store.js";
import { S3BlobStore, s3Client } from "../../src/storage/blob/s3-blob-store.js";
import { openPostgresCatalog, openSqliteCatalog } from "../../src/storage/meta/open-catalog.js";
import { type PostgresServer, startPostgres } from "../helpers/postgres.js";
import { tempDir } from "../helpers/server.js";
import { type SwiftS3, startSwiftS3 } from "../helpers/swift.js";

/**
 * Every implementation of a port, bound to its contract suite: a new backend is added here and
 * is done when its contract passes.
 */
export interface Backend<T> {
  name: string;
  open(): Promise<{ store: T; close(): Promise<void> }>;
  /** Stops whatever server the backend started for the suite. */
  shutdown?(): Promise<void>;
}

const MIB = 1024 * 1024;
let swift: Promise<SwiftS3> | null = null;
let buckets = 0;

export const BLOB_STORES: Backend<MaintainedBlobStore>[] = [
  {
    name: "filesystem",
    open: async () => {
      const dir = tempDir("blobs");
      return {
        store: await new FsBlobStore(path.join(dir, "blobs")).init(),
        close: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    // Swift's s3api started once for the suite; every test gets a fresh bucket. Parts start at
    // 5 MiB (S3's smallest) and double from the third on, which is spooled to a file, so that the
    // large-blob test goes through a multipart upload with parts of both kinds.
    name: "S3 (Swift s3api)",
    open: async () => {
      const server = await (swift ??= startSwiftS3());
      process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
      const client = s3Client({ endpoint: server.endpoint, region: server.region, forcePathStyle: true });
      const bucket = `contract-${process.pid}-${++buckets}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const spoolDir = tempDir("s3-spool");
      const parts = { firstPartBytes: 5 * MIB, memoryPartBytes: 5 * MIB, partsPerStep: 1 };
      return {
        store: await new S3BlobStore(client, { bucket, prefix: "vitrine/", parts, spoolDir }).init(),
        close: async () => {
          assert.deepEqual(fs.readdirSync(spoolDir), [], "spooled parts left behind");
          fs.rmSync(spoolDir, { recursive: true, force: true });
          const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
          for (const o of listed.Contents ?? [])
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
          await client.send(new DeleteBucketCommand({ Bucket: bucket }));
          client.destroy();
        },
      };
    },
    shutdown: async () => {
      if (swift) await (await swift).stop();
      swift = null;
    },
  },
];

let postgres: Promise<PostgresServer> | null = null;

export const CATALOGS: Backend<ServiceCatalog>[] = [
  {
    name: "SQLite (in memory)",
    open: async () => {
      const catalog = await openSqliteCatalog(":memory:");
      return { store: catalog, close: () => catalog.close() };
    },
  },
  {
    // A private cluster started once for the suite; every test gets a fresh database.
    name: "PostgreSQL",
    open: async () => {
      const server = await (postgres ??= startPostgres());
      const url = await server.createDatabase();
      const catalog = await openPostgresCatalog(url);
      return {
        store: catalog,
        close: async () => {
          await catalog.close();
          server.dropDatabase(url);
        },
      };
    },
    shutdown: async () => {
      if (postgres) (await postgres).stop();
      postgres = null;
    },
  },
];
