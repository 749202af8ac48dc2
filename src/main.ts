import { hostname } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { buildHttpApp } from "./api/http/app.js";
import { Authenticator } from "./auth/authenticator.js";
import { ensureAdminToken } from "./auth/bootstrap.js";
import { FailedAuthLimiter } from "./auth/failure-limiter.js";
import { KeystoneTokenValidator } from "./auth/keystone.js";
import type { Config } from "./config.js";
import { newResourceId } from "./core/ids.js";
import { ImageAccessBindingService } from "./core/services/access-bindings.js";
import { ImageDataService } from "./core/services/image-data.js";
import { ImageLoader } from "./core/services/image-loader.js";
import { ImageMembersService } from "./core/services/image-members.js";
import { ImageService } from "./core/services/images.js";
import { OperationService } from "./core/services/operations.js";
import { DirectoryVolumeSource } from "./ingest/sources/volume-source.js";
import { UrlPolicy } from "./ingest/url-policy.js";
import { OperationEngine } from "./operations/engine.js";
import { CreateImageHandler } from "./operations/handlers/image-create.js";
import { DeleteImageHandler } from "./operations/handlers/image-delete.js";
import { UpdateImageHandler } from "./operations/handlers/image-update.js";
import { FsBlobStore } from "./storage/blob/fs-blob-store.js";
import { type Db, migrateToLatest, openSqlite } from "./storage/meta/database.js";
import { AccessBindingsRepo } from "./storage/meta/access-bindings-repo.js";
import { ImagesRepo } from "./storage/meta/images-repo.js";
import { MembersRepo } from "./storage/meta/members-repo.js";
import { OperationsRepo } from "./storage/meta/operations-repo.js";
import { SubjectsRepo } from "./storage/meta/subjects-repo.js";

/** The blob store's name in OpenStack terms (Glance calls its filesystem store `fs`). */
const STORE_ID = "fs";

export interface Service {
  log: Logger;
  db: Db;
  http: FastifyInstance | null;
  engine: OperationEngine;
  /** The address the HTTP listener is bound to, once started. */
  url: string | null;
  stop(): Promise<void>;
}

/** Composition root: config → stores → core → listeners and workers. */
export async function startService(config: Config): Promise<Service> {
  const log = pino({ level: config.logLevel, base: { pid: process.pid } });
  const db = openSqlite(path.join(config.dataDir, "vitrine.sqlite"));
  await migrateToLatest(db);
  const blobs = await new FsBlobStore(path.join(config.dataDir, "blobs")).init();
  await ensureAdminToken(db, config.dataDir, log);

  const images = new ImagesRepo();
  const operations = new OperationsRepo();
  const members = new MembersRepo();
  const bindings = new AccessBindingsRepo();
  const loader = new ImageLoader(images, members, bindings);
  const urlPolicy = new UrlPolicy(config.importAllowedHosts);
  const volumes = new DirectoryVolumeSource({ disk: config.disksDir, snapshot: config.snapshotsDir });
  const engine = new OperationEngine(
    db,
    operations,
    {
      "image.create": new CreateImageHandler({
        db,
        images,
        blobs,
        volumes,
        urlPolicy,
        maxImageBytes: config.maxImageBytes,
        maxVirtualSize: config.formats.maxVirtualSize,
      }),
      "image.update": new UpdateImageHandler({ images }),
      "image.delete": new DeleteImageHandler({ db, images, blobs }),
    },
    { owner: `${hostname()}:${process.pid}:${newResourceId()}`, ...config.operations },
    log.child({ component: "operations" }),
  );
  const imageService = new ImageService({
    db,
    images,
    operations,
    engine,
    urlPolicy,
    loader,
    formats: config.formats,
  });
  const imageData = new ImageDataService({
    db,
    images,
    operations,
    blobs,
    engine,
    urlPolicy,
    loader,
    maxImageBytes: config.maxImageBytes,
    formats: config.formats,
    storeId: STORE_ID,
  });
  const imageMembers = new ImageMembersService({ db, members, loader });
  const accessBindings = new ImageAccessBindingService({
    db,
    bindings,
    subjects: new SubjectsRepo(),
    operations,
    loader,
    externalSubjects: config.keystone !== null,
  });
  const operationService = new OperationService({ db, operations, engine });

  if (config.role !== "api") {
    await collectAbandonedPendingData(blobs, operations, images, db, log);
    engine.start();
  }

  let http: FastifyInstance | null = null;
  let url: string | null = null;
  if (config.role !== "worker") {
    http = buildHttpApp({
      log,
      db,
      blobs,
      auth: new Authenticator({
        db,
        bindings,
        adminProject: config.adminProject,
        keystone: config.keystone
          ? new KeystoneTokenValidator(config.keystone, log.child({ component: "keystone" }))
          : null,
        limiter: new FailedAuthLimiter(config.authFailures.burst, config.authFailures.windowMs),
        cacheMs: config.tokenCacheMs,
      }),
      accessBindings,
      images: imageService,
      imageData,
      imageMembers,
      operations: operationService,
      maxRequestBodyBytes: config.maxRequestBodyBytes,
      publicUrl: config.publicUrl,
      maxImageBytes: config.maxImageBytes,
      storeId: STORE_ID,
    });
    url = await http.listen({ host: config.listen.host, port: config.listen.port });
    log.info({ url, dataDir: config.dataDir }, "vitrine listening");
  }

  let stopping: Promise<void> | null = null;
  return {
    log,
    db,
    http,
    engine,
    url,
    stop: () =>
      (stopping ??= (async () => {
        // Stop taking requests and let running ones finish, then hand running operations back.
        await http?.close();
        await engine.stop();
        await db.destroy();
      })()),
  };
}

/**
 * Pending blob data whose operation is finished or gone was left by a crash: drop it. Direct
 * uploads are tagged `upload-<image id>`; theirs is kept while the image still shows it receiving
 * (another process may be streaming it).
 */
async function collectAbandonedPendingData(
  blobs: FsBlobStore,
  operations: OperationsRepo,
  images: ImagesRepo,
  db: Db,
  log: Logger,
): Promise<void> {
  const unfinished = await operations.unfinishedIds(db);
  for (const tag of await blobs.listPendingTags()) {
    const uploadOf = tag.startsWith("upload-")
      ? await images.findById(db, tag.slice("upload-".length))
      : null;
    const uploading = uploadOf !== null && (uploadOf.status === "saving" || uploadOf.status === "uploading");
    if (!unfinished.has(tag) && !uploading) {
      await blobs.discardPending(tag);
      log.info({ tag }, "removed pending data of a finished operation");
    }
  }
}
