import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Authenticator } from "../../auth/authenticator.js";
import { notFound } from "../../core/errors.js";
import type { Core } from "../../core/core.js";
import type { Principal } from "../../core/principal.js";
import type { ImageService } from "../yandex/image-service.js";
import { readPage } from "../yandex/listing.js";
import { renderOperation } from "../yandex/operation-render.js";
import { useYandexConventions } from "../yandex/plugin.js";
import { answers } from "../http/response-shapes.js";
import { RESPONSES, pageOf } from "../yandex/responses.js";
import { PageQuery } from "../yandex/schemas.js";
import { Rules } from "../yandex/validation.js";
import { operationMethods } from "./methods.js";

export interface OperationRoutesOptions {
  core: Core;
  auth: Authenticator;
  services: Record<"compute" | "baremetal", ImageService>;
}

const Params = Type.Object({ operationRef: Type.String() });
const FolderOperationsQuery = Type.Composite([
  PageQuery,
  Type.Object({ folderId: Type.Optional(Type.String()) }),
]);

const ANSWERS = RESPONSES["yandex.cloud.operation.OperationService"];

/** Operation service: `GET /operations/{id}` and `{id}:cancel` (GET per the proto, POST per the guide). */
export const operationRoutes: FastifyPluginAsync<OperationRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  useYandexConventions(app, opts.auth);
  const methods = operationMethods(opts.core, opts.services);

  const handle = async (ref: string, method: string, principal: Principal) => {
    const colon = ref.indexOf(":");
    const id = colon < 0 ? ref : ref.slice(0, colon);
    const verb = colon < 0 ? null : ref.slice(colon + 1);
    if (verb === null && method === "GET") return methods.Get(principal, { operationId: id });
    if (verb === "cancel") return methods.Cancel(principal, { operationId: id });
    throw notFound(`No such method: ${method} /operations/${ref}`);
  };

  // Vitrine's extension (README "Operations and durability"): a folder's operations, newest first.
  app.get(
    "/",
    {
      schema: {
        querystring: FolderOperationsQuery,
        response: answers({ 200: pageOf("operations", ANSWERS.Get) }),
      },
    },
    async (req) => {
      const folderId = req.query.folderId;
      new Rules().id("folderId", folderId).check();
      const { pageSize, pageToken } = readPage(req.query, 100);
      const page = await opts.core.operations.listInFolder(req.principal, folderId!, pageSize, pageToken);
      return {
        operations: page.items.map((o) => renderOperation(o, opts.services)),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
    },
  );

  app.get(
    "/:operationRef",
    { schema: { params: Params, response: answers({ 200: ANSWERS.Get }) } },
    async (req) => handle(req.params.operationRef, "GET", req.principal),
  );
  app.post(
    "/:operationRef",
    { schema: { params: Params, response: answers({ 200: ANSWERS.Cancel }) } },
    async (req) => handle(req.params.operationRef, "POST", req.principal),
  );
};
