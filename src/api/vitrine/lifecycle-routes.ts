import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { invalidArgument } from "../../core/errors.js";
import type { Image } from "../../core/image.js";
import type { BinSettings } from "../../core/lifecycle/recycle-bin.js";
import type { RetentionAction, RetentionRule } from "../../core/lifecycle/lifecycle.js";
import { answers } from "../http/response-shapes.js";
import { COMPUTE_STATUS } from "../compute/status.js";
import type { ImageRoutesOptions } from "../yandex/image-service.js";
import { int64, timestamp } from "../yandex/json.js";
import { readPage } from "../yandex/listing.js";
import { renderOperation } from "../yandex/operation-render.js";
import { Operation, Timestamp } from "../yandex/responses.js";
import { PageQuery } from "../yandex/schemas.js";
import { Rules } from "../yandex/validation.js";

/** google.protobuf.Duration in proto3 JSON: whole seconds here ("604800s"). */
const Duration = Type.String({ pattern: "^\\d+s$" });
const Int64 = Type.String({ pattern: "^\\d+$" });

const BinnedImage = Type.Object(
  {
    id: Type.String(),
    uuid: Type.String(),
    folderId: Type.String(),
    name: Type.String(),
    family: Type.String(),
    size: Int64,
    deletedAt: Timestamp,
    purgeAt: Timestamp,
    /** The Compute status a restore gives back. */
    restoreStatus: Type.String(),
  },
  { additionalProperties: false },
);
const BinPage = Type.Object(
  { images: Type.Array(BinnedImage), nextPageToken: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
const Restored = Type.Object(
  {
    id: Type.String(),
    uuid: Type.String(),
    folderId: Type.String(),
    name: Type.String(),
    status: Type.String(),
    operationId: Type.String(),
  },
  { additionalProperties: false },
);
const Settings = Type.Object(
  {
    folderId: Type.String(),
    retention: Duration,
    folderRetention: Type.Optional(Duration),
    installationRetention: Duration,
  },
  { additionalProperties: false },
);
const SetSettings = Type.Object(
  { retention: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
const Rule = Type.Object(
  {
    folderId: Type.String(),
    family: Type.String(),
    keep: Type.Integer(),
    action: Type.String(),
    after: Duration,
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);
const Rules_ = Type.Object({ rules: Type.Array(Rule) }, { additionalProperties: false });
const PutRule = Type.Object(
  {
    keep: Type.Integer(),
    action: Type.String(),
    after: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const BinQuery = Type.Object({ ...PageQuery.properties, folderId: Type.Optional(Type.String()) });
const ImageParams = Type.Object({ imageRef: Type.String() });
const FolderParams = Type.Object({ folderId: Type.String() });
const RuleParams = Type.Object({ folderId: Type.String(), family: Type.String() });
const Empty = Type.Object({}, { additionalProperties: false });

const duration = (seconds: number): string => `${seconds}s`;

/** A Duration request field ("3600s"; a plain number of seconds too). */
function secondsOf(field: string, raw: string): number {
  const m = /^(\d{1,12})s?$/.exec(raw.trim());
  if (!m) {
    throw invalidArgument(`${field}: must be a duration in seconds such as "604800s"`, [
      { field, description: 'a duration such as "604800s"' },
    ]);
  }
  return Number(m[1]);
}

function renderBinned(image: Image) {
  return {
    id: image.id,
    uuid: image.uuid,
    folderId: image.folderId,
    name: image.name,
    family: image.family,
    size: int64(image.size ?? 0),
    deletedAt: timestamp(image.bin!.binnedAt),
    purgeAt: timestamp(image.bin!.purgeAt),
    restoreStatus: COMPUTE_STATUS[image.bin!.restoreStatus],
  };
}

function renderSettings(s: BinSettings) {
  return {
    folderId: s.folderId,
    retention: duration(s.retentionSeconds),
    ...(s.folderRetentionSeconds === null ? {} : { folderRetention: duration(s.folderRetentionSeconds) }),
    installationRetention: duration(s.installationRetentionSeconds),
  };
}

function renderRule(rule: RetentionRule) {
  return {
    folderId: rule.folderId,
    family: rule.family,
    keep: rule.keep,
    action: rule.action,
    after: duration(rule.afterSeconds),
    createdAt: timestamp(rule.createdAt),
  };
}

/**
 * Vitrine's own API for image lifecycle (README "Lifecycle"), in the Yandex conventions: the
 * recycle bin (list, restore, purge), a folder's bin retention, retention rules per family.
 */
export const lifecycleRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { lifecycle } = opts.core;

  app.get(
    "/recycleBin",
    { schema: { querystring: BinQuery, response: answers({ 200: BinPage }) } },
    async (req) => {
      const folderId = req.query.folderId ?? req.principal.projectId;
      new Rules().id("folderId", folderId).check();
      const { pageSize, pageToken } = readPage(req.query, 100);
      const page = await lifecycle.listBin(req.principal, folderId, pageSize, pageToken);
      return {
        images: page.items.map(renderBinned),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },
  );

  // `{imageId}:restore` is one path segment with the verb after a colon, as the Yandex APIs do.
  app.post(
    "/recycleBin/:imageRef",
    { schema: { params: ImageParams, response: answers({ 200: Restored }) } },
    async (req) => {
      const [id, verb] = req.params.imageRef.split(":");
      new Rules().id("imageId", id).check();
      if (verb !== "restore")
        throw invalidArgument(`No such method: POST /vitrine/v1/recycleBin/${req.params.imageRef}`);
      const { image, operation } = await lifecycle.restore(req.principal, id!);
      return {
        id: image.id,
        uuid: image.uuid,
        folderId: image.folderId,
        name: image.name,
        status: COMPUTE_STATUS[image.status],
        operationId: operation.id,
      };
    },
  );

  app.delete(
    "/recycleBin/:imageRef",
    { schema: { params: ImageParams, response: answers({ 200: Operation }) } },
    async (req) => {
      new Rules().id("imageId", req.params.imageRef).check();
      return renderOperation(await lifecycle.purge(req.principal, req.params.imageRef), opts.services);
    },
  );

  app.get(
    "/folders/:folderId/recycleBin",
    { schema: { params: FolderParams, response: answers({ 200: Settings }) } },
    async (req) => renderSettings(await lifecycle.binSettings(req.principal, req.params.folderId)),
  );

  app.patch(
    "/folders/:folderId/recycleBin",
    { schema: { params: FolderParams, body: SetSettings, response: answers({ 200: Settings }) } },
    async (req) => {
      const raw = req.body.retention;
      const seconds = raw === null ? null : secondsOf("retention", raw);
      return renderSettings(await lifecycle.setBinRetention(req.principal, req.params.folderId, seconds));
    },
  );

  app.get(
    "/folders/:folderId/retentionRules",
    { schema: { params: FolderParams, response: answers({ 200: Rules_ }) } },
    async (req) => ({ rules: (await lifecycle.rules(req.principal, req.params.folderId)).map(renderRule) }),
  );

  app.put(
    "/folders/:folderId/retentionRules/:family",
    { schema: { params: RuleParams, body: PutRule, response: answers({ 200: Rule }) } },
    async (req) => {
      const { keep, action, after } = req.body;
      const rule = await lifecycle.putRule(req.principal, req.params.folderId, req.params.family, {
        keep,
        action: action.toUpperCase() as RetentionAction,
        afterSeconds: after === undefined ? 0 : secondsOf("after", after),
      });
      return renderRule(rule);
    },
  );

  app.delete(
    "/folders/:folderId/retentionRules/:family",
    { schema: { params: RuleParams, response: answers({ 200: Empty }) } },
    async (req) => {
      await lifecycle.deleteRule(req.principal, req.params.folderId, req.params.family);
      return {};
    },
  );
};
