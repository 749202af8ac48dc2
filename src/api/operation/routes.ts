import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Authenticator } from "../../auth/authenticator.js";
import { notFound } from "../../core/errors.js";
import type { Core } from "../../core/core.js";
import type { Principal } from "../../core/principal.js";
import type { ImageDialect } from "../yandex/image-dialect.js";
import { readPage } from "../yandex/listing.js";
import { renderOperation } from "../yandex/operation-render.js";
import { useYandexConventions } from "../yandex/plugin.js";
import { PageQuery } from "../yandex/schemas.js";
import { Rules } from "../yandex/validation.js";
import { operationMethods } from "./methods.js";

export interface OperationRoutesOptions {
  core: Core;
  auth: Authenticator;
  dialects: Record<"compute" | "baremetal", ImageDialect>;
}

const Params = Type.Object({ operationRef: Type.String() });
const FolderOperationsQuery = Type.Composite([
  PageQuery,
  Type.Object({ folderId: Type.Optional(Type.String()) }),
]);

/** Operation service: `GET /operations/{id}` and `{id}:cancel` (GET per the proto, POST per the guide). */
export const operationRoutes: FastifyPluginAsync<OperationRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  useYandexConventions(app, opts.auth);
  const methods = operationMethods(opts.core, opts.dialects);

  const handle = async (ref: string, method: string, principal: Principal) => {
    const colon = ref.indexOf(":");
    const id = colon < 0 ? ref : ref.slice(0, colon);
    const verb = colon < 0 ? null : ref.slice(colon + 1);
    if (verb === null && method === "GET") return methods.Get(principal, { operationId: id });
    if (verb === "cancel") return methods.Cancel(principal, { operationId: id });
    throw notFound(`No such method: ${method} /operations/${ref}`);
  };

  // Vitrine's extension (README "Operations and durability"): a folder's operations, newest first.
  app.get("/", { schema: { querystring: FolderOperationsQuery } }, async (req) => {
    const folderId = req.query.folderId;
    new Rules().id("folderId", folderId).check();
    const { pageSize, pageToken } = readPage(req.query, 100);
    const page = await opts.core.operations.listInFolder(req.principal, folderId!, pageSize, pageToken);
    return {
      operations: page.items.map((o) => renderOperation(o, opts.dialects)),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    };
  });

  app.get("/:operationRef", { schema: { params: Params } }, async (req) =>
    handle(req.params.operationRef, "GET", req.principal),
  );
  app.post("/:operationRef", { schema: { params: Params } }, async (req) =>
    handle(req.params.operationRef, "POST", req.principal),
  );
};
