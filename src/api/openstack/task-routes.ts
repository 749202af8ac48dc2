import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Operation } from "../../core/operation.js";
import { glanceTime } from "./render.js";
import type { OpenStackRoutesOptions } from "./routes.js";

const IdParams = Type.Object({ imageId: Type.String() });

/** How many of an image's operations are looked at for its tasks (imports are few per image). */
const MAX_OPERATIONS = 1000;
const PAGE = 100;

/**
 * Image tasks (API 2.12): each import of an image (glance-direct, web-download) is an operation
 * here; Glance shows it as an `api_image_import` task with the request that started it.
 */
export const taskRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = opts;

  app.get("/images/:imageId/tasks", { schema: { params: IdParams } }, async (req) => {
    const ref = { uuid: req.params.imageId };
    const operations: Operation[] = [];
    let token = "";
    do {
      const page = await core.images.listOperations(req.principal, ref, PAGE, token);
      operations.push(...page.items);
      token = page.nextPageToken;
    } while (token && operations.length < MAX_OPERATIONS);
    const tasks = operations.flatMap((op) => {
      const method = importMethodOf(op);
      return method ? [renderTask(op, req.params.imageId, method, opts.storeId)] : [];
    });
    return { tasks };
  });
};

type ImportMethod = { name: "glance-direct" } | { name: "web-download"; uri: string };

function importMethodOf(op: Operation): ImportMethod | null {
  if (op.kind !== "image.create" || op.task.type !== "create") return null;
  // An import into a registered image puts it back to queued when it fails; a create from a URI
  // (Compute's) makes a new image and is no OpenStack task.
  if (op.task.onFailure !== "requeue") return null;
  const { source } = op.task;
  if (source.type === "staged") return { name: "glance-direct" };
  if (source.type === "uri") return { name: "web-download", uri: source.uri };
  return null;
}

function renderTask(op: Operation, imageId: string, method: ImportMethod, storeId: string) {
  return {
    id: op.id,
    type: "api_image_import",
    status: op.done ? (op.error ? "failure" : "success") : op.attempts > 0 ? "processing" : "pending",
    owner: op.folderId,
    input: { image_id: imageId, import_req: { method }, backend: [storeId] },
    result: null,
    message: op.error?.message ?? "",
    expires_at: null,
    created_at: glanceTime(op.createdAt),
    updated_at: glanceTime(op.modifiedAt),
    image_id: imageId,
    request_id: op.requestId ?? "",
    user_id: op.createdBy,
  };
}
