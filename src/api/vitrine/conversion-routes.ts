import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { ConversionPolicy } from "../../core/conversion/conversion-policy.js";
import type { ConversionSettings } from "../../core/conversion/folder-conversion.js";
import { answers } from "../http/response-shapes.js";
import type { ImageRoutesOptions } from "../yandex/image-service.js";
import { Rules } from "../yandex/validation.js";

/** A policy in JSON: the target ("none": no conversion) and the formats kept as they are. */
const Policy = Type.Object(
  { target: Type.String(), keep: Type.Array(Type.String()) },
  { additionalProperties: false },
);
const Settings = Type.Object(
  {
    folderId: Type.String(),
    conversion: Policy,
    folderConversion: Type.Optional(Policy),
    installationConversion: Policy,
  },
  { additionalProperties: false },
);
/** `{"conversion": {...}}` sets the folder's own policy; `{"conversion": null}` follows the installation's. */
const SetSettings = Type.Object(
  {
    conversion: Type.Union([
      Type.Null(),
      Type.Object(
        { target: Type.String(), keep: Type.Optional(Type.Array(Type.String())) },
        { additionalProperties: false },
      ),
    ]),
  },
  { additionalProperties: false },
);
const FolderParams = Type.Object({ folderId: Type.String() });

const renderPolicy = (p: ConversionPolicy) => ({ target: p.target ?? "none", keep: [...p.keep] });

function renderSettings(s: ConversionSettings) {
  return {
    folderId: s.folderId,
    conversion: renderPolicy(s.policy),
    ...(s.folderPolicy ? { folderConversion: renderPolicy(s.folderPolicy) } : {}),
    installationConversion: renderPolicy(s.installationPolicy),
  };
}

/**
 * A folder's conversion policy (README "Conversion and export") under `/vitrine/v1`: readable by
 * whoever may list the folder's images, set by the service admin.
 */
export const conversionRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { conversion } = opts.core;

  app.get(
    "/folders/:folderId/conversion",
    { schema: { params: FolderParams, response: answers({ 200: Settings }) } },
    async (req) => {
      new Rules().id("folderId", req.params.folderId).check();
      return renderSettings(await conversion.settings(req.principal, req.params.folderId));
    },
  );

  app.patch(
    "/folders/:folderId/conversion",
    { schema: { params: FolderParams, body: SetSettings, response: answers({ 200: Settings }) } },
    async (req) => {
      new Rules().id("folderId", req.params.folderId).check();
      const set = req.body.conversion;
      const input = set === null ? null : { target: set.target, keep: set.keep ?? [] };
      return renderSettings(await conversion.setSettings(req.principal, req.params.folderId, input));
    },
  );
};
