import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Operation } from "../../core/operation.js";
import type { Principal } from "../../core/principal.js";
import { invalidArgument, isVitrineError, notFound } from "../../core/errors.js";
import { GlanceHttpError } from "./errors.js";
import { parseLimit, parseSortDir, parseSortKey } from "./listing.js";
import { glanceTime } from "./render.js";
import { answers } from "../http/response-shapes.js";
import { OPENSTACK_ANSWERS } from "./responses.js";
import type { OpenStackRoutesOptions } from "./routes.js";
import { TASK_SCHEMA, TASKS_SCHEMA, TASK_STATUSES } from "./task-schemas.js";

const IdParams = Type.Object({ imageId: Type.String() });
const TaskParams = Type.Object({ taskId: Type.String() });
const TaskQuery = Type.Object({
  limit: Type.Optional(Type.String()),
  marker: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  sort_key: Type.Optional(Type.String()),
  sort_dir: Type.Optional(Type.String()),
});

/** How many operations one task-list request reads at most before it answers with what it found. */
const MAX_SCANNED = 5000;
const TASK_TYPES = ["import", "api_image_import"];
/** The keys Glance's tasks API sorts by (its columns). */
const TASK_SORT_KEYS = {
  id: "id",
  type: "type",
  status: "status",
  owner: "owner",
  created_at: "created_at",
  updated_at: "updated_at",
} as const;

const compare = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

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

  app.get(
    "/images/:imageId/tasks",
    { schema: { params: IdParams, response: answers({ 200: OPENSTACK_ANSWERS.imageTasks }) } },
    async (req) => {
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
        return method ? [renderTask(op, req.params.imageId, method, opts.core.imageData.defaultStore())] : [];
      });
      return { tasks };
    },
  );

  app.get(
    "/schemas/task",
    { schema: { response: answers({ 200: OPENSTACK_ANSWERS.schema }) } },
    async () => TASK_SCHEMA,
  );
  app.get(
    "/schemas/tasks",
    { schema: { response: answers({ 200: OPENSTACK_ANSWERS.schema }) } },
    async () => TASKS_SCHEMA,
  );

  // Every import across projects (Glance keeps /v2/tasks for admins). Imports are one kind of
  // image.create among Compute's creates: the list reads operations (newest first, at most
  // MAX_SCANNED of them), keeps the imports that match the filters, sorts them by any key
  // Glance's tasks API sorts by (glanceclient asks for `status` by default) and pages with the
  // last task's id as the marker.
  app.get(
    "/tasks",
    { schema: { querystring: TaskQuery, response: answers({ 200: OPENSTACK_ANSWERS.tasks }) } },
    async (req) => {
      const q = req.query;
      const sortKey = q.sort_key === undefined ? "created_at" : parseSortKey(TASK_SORT_KEYS, q.sort_key);
      const sortDir = parseSortDir(q.sort_dir, "desc");
      if (q.status !== undefined && !TASK_STATUSES.includes(q.status)) {
        throw invalidArgument(`Invalid status value: ${q.status}`);
      }
      if (q.type !== undefined && !TASK_TYPES.includes(q.type)) {
        throw invalidArgument(`Invalid type value: ${q.type}`);
      }
      const limit = parseLimit(q.limit);
      // Each task with what it is sorted by: timestamps to the millisecond (rendered, they keep
      // whole seconds only), and its place in the newest-first scan to break ties.
      const found: { task: ReturnType<typeof renderTask>; op: Operation }[] = [];
      let scanned = 0;
      let token: string | undefined;
      do {
        const page = await core.operations.list(req.principal, {
          kind: "image.create",
          limit: PAGE,
          marker: token,
        });
        for (const op of page.items) {
          scanned++;
          const method = importMethodOf(op);
          if (!method) continue;
          const task = renderTask(
            op,
            await imageUuidOf(req.principal, op),
            method,
            opts.core.imageData.defaultStore(),
          );
          if ((q.type ?? task.type) === task.type && (q.status ?? task.status) === task.status)
            found.push({ task, op });
        }
        token = page.more ? page.items[page.items.length - 1]?.id : undefined;
      } while (token && scanned < MAX_SCANNED);
      const sign = sortDir === "asc" ? 1 : -1;
      const keyOf = (e: (typeof found)[number]): string | number =>
        sortKey === "created_at"
          ? e.op.createdAt
          : sortKey === "updated_at"
            ? e.op.modifiedAt
            : e.task[sortKey];
      // Array sort is stable: ties keep the newest-first order of the scan.
      found.sort((a, b) => sign * compare(keyOf(a), keyOf(b)));
      const tasks = found.map((e) => e.task);
      let from = 0;
      if (q.marker !== undefined) {
        from = tasks.findIndex((t) => t.id === q.marker) + 1;
        if (from === 0) throw notFound(`Task with the given ID ${q.marker} not found`);
      }
      const shown = tasks.slice(from, from + limit);
      const params = new URLSearchParams(
        Object.entries(q).filter((e): e is [string, string] => e[0] !== "marker" && e[1] !== undefined),
      );
      const last = shown[shown.length - 1];
      if (last) params.set("marker", last.id);
      return {
        tasks: shown.map(summary),
        first: "/v2/tasks",
        schema: "/v2/schemas/tasks",
        ...(last && from + limit < tasks.length ? { next: `/v2/tasks?${params.toString()}` } : {}),
      };
    },
  );

  app.get(
    "/tasks/:taskId",
    { schema: { params: TaskParams, response: answers({ 200: OPENSTACK_ANSWERS.task }) } },
    async (req) => {
      if (!req.principal.isAdmin) {
        throw new GlanceHttpError(403, "You are not authorized to complete get_task action.");
      }
      const missing = () => notFound(`Task with the given ID ${req.params.taskId} not found`);
      const op = await core.operations.get(req.principal, req.params.taskId).catch((err: unknown) => {
        throw isVitrineError(err) && err.code === "NOT_FOUND" ? missing() : err;
      });
      const method = importMethodOf(op);
      if (!method) throw missing();
      return renderTask(op, await imageUuidOf(req.principal, op), method, opts.core.imageData.defaultStore());
    },
  );

  /** The image a task imported into, by the id OpenStack knows it by (its internal id once deleted). */
  async function imageUuidOf(principal: Principal, op: Operation): Promise<string> {
    const image = await core.images
      .get(principal, { kind: op.resourceKind, id: op.resourceId })
      .catch(() => null);
    return image?.uuid ?? op.resourceId;
  }
};

/** A task in a list: what it is and where it stands, without its input and result. */
function summary(task: ReturnType<typeof renderTask>) {
  const { input: _input, result: _result, message: _message, ...rest } = task;
  return rest;
}

type ImportMethod = { name: "glance-direct" | "glance-download" } | { name: "web-download"; uri: string };

function importMethodOf(op: Operation): ImportMethod | null {
  if (op.kind !== "image.create" || op.task.type !== "create") return null;
  // An import into a registered image puts it back to queued when it fails; a create from a URI
  // (Compute's) makes a new image and is no OpenStack task.
  if (op.task.onFailure !== "requeue") return null;
  const { source } = op.task;
  if (source.type === "staged") return { name: "glance-direct" };
  if (source.type === "uri") return { name: "web-download", uri: source.uri };
  if (source.type === "remote") return { name: "glance-download" };
  return null;
}

function renderTask(op: Operation, imageId: string, method: ImportMethod, defaultStore: string) {
  const stores =
    op.task.type === "create" ? [op.task.store ?? defaultStore, ...(op.task.copyTo?.stores ?? [])] : [];
  return {
    id: op.id,
    type: "api_image_import",
    status: op.done ? (op.error ? "failure" : "success") : op.attempts > 0 ? "processing" : "pending",
    owner: op.folderId,
    input: { image_id: imageId, import_req: { method }, backend: stores },
    result: null,
    message: op.error?.message ?? "",
    expires_at: null,
    created_at: glanceTime(op.createdAt),
    updated_at: glanceTime(op.modifiedAt),
    image_id: imageId,
    request_id: op.requestId ?? "",
    user_id: op.createdBy,
    self: `/v2/tasks/${op.id}`,
    schema: "/v2/schemas/task",
  };
}
