import { NO_BODY, answers } from "../http/response-shapes.js";
import { OPENSTACK_ANSWERS as A } from "./responses.js";
import type { FastifyPluginAsync } from "fastify";
import { invalidArgument } from "../../core/errors.js";
import type { EntryKind, MetadefEntry } from "../../core/metadefs/metadef.js";
import { ownEntry } from "../../core/own-entry.js";
import { objectBody, requireMediaType } from "./conventions.js";
import { parseLimit, parseSortDir, parseSortKey } from "./listing.js";
import { bodyOf, metadefDocument, namespaceInput } from "./metadef-documents.js";
import {
  propertyMap,
  renderAssociation,
  renderNamespace,
  renderObject,
  renderProperty,
  renderResourceType,
  renderTag,
} from "./metadef-render.js";
import { METADEF_SCHEMA_DOCUMENTS, type METADEF_SCHEMAS } from "./metadef-schemas.js";
import type { OpenStackRoutesOptions } from "./routes.js";

const NAMESPACE_SORT_KEYS = {
  created_at: "created_at",
  updated_at: "updated_at",
  namespace: "namespace",
} as const;
const TAG_SORT_KEYS = { created_at: "createdAt", name: "name" } as const;

type Ns = { Params: { ns: string } };
type NsEntry = { Params: { ns: string; name: string } };
type Query = Record<string, string | undefined>;

/** Which entry kind each collection path serves, and its schema. */
const COLLECTIONS = [
  { path: "objects", kind: "object", schema: "object" },
  { path: "properties", kind: "property", schema: "property" },
] as const satisfies readonly { path: string; kind: EntryKind; schema: keyof typeof METADEF_SCHEMAS }[];

/**
 * The metadata definitions API (Glance's /v2/metadefs): namespaces with their objects,
 * properties, tags and resource-type associations. Reads are everyone's (what they may see);
 * changes are admins' (core/metadefs/metadef-access.ts).
 */
export const metadefRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (app, opts) => {
  const { metadefs } = opts.core;

  app.get<{ Params: { name: string } }>(
    "/schemas/metadefs/:name",
    { schema: { response: answers({ 200: A.schema }) } },
    async (req) => {
      const schema = ownEntry(METADEF_SCHEMA_DOCUMENTS, req.params.name);
      if (!schema) throw invalidArgument(`Unknown schema: metadefs/${req.params.name}`);
      return schema;
    },
  );

  app.get(
    "/metadefs/resource_types",
    { schema: { response: answers({ 200: A.resourceTypes }) } },
    async () => ({
      resource_types: (await metadefs.resourceTypes()).map(renderResourceType),
    }),
  );

  app.get<{ Querystring: Query }>(
    "/metadefs/namespaces",
    { schema: { response: answers({ 200: A.namespaces }) } },
    async (req) => {
      const q = req.query;
      const visibility = q.visibility;
      if (visibility !== undefined && visibility !== "public" && visibility !== "private") {
        throw invalidArgument(`Invalid visibility value: ${visibility}`);
      }
      const limit = parseLimit(q.limit);
      const page = await metadefs.listNamespaces(req.principal, {
        visibility,
        resourceTypes: q.resource_types?.split(",").filter(Boolean),
        sortKey: parseSortKey(NAMESPACE_SORT_KEYS, q.sort_key ?? "created_at"),
        sortDir: parseSortDir(q.sort_dir, "desc"),
        marker: q.marker,
        limit,
      });
      const params = new URLSearchParams(
        Object.entries(q).filter((e): e is [string, string] => e[0] !== "marker" && e[1] !== undefined),
      );
      const first =
        params.size > 0 ? `/v2/metadefs/namespaces?${params.toString()}` : "/v2/metadefs/namespaces";
      const last = page.items[page.items.length - 1];
      if (page.more && last) params.set("marker", last.namespace);
      return {
        namespaces: page.items.map((ns) =>
          renderNamespace({ ...ns, associations: page.associations.get(ns.id) }),
        ),
        first,
        schema: "/v2/schemas/metadefs/namespaces",
        ...(page.more && last ? { next: `/v2/metadefs/namespaces?${params.toString()}` } : {}),
      };
    },
  );

  app.post(
    "/metadefs/namespaces",
    { schema: { response: answers({ 201: A.namespace }) } },
    async (req, reply) => {
      const doc = metadefDocument(req, "namespace");
      const properties = (doc.properties ?? {}) as Record<string, Record<string, unknown>>;
      const objects = (doc.objects ?? []) as Record<string, unknown>[];
      const tags = (doc.tags ?? []) as { name: string }[];
      const associations = (doc.resource_type_associations ?? []) as Record<string, string | undefined>[];
      const created = await metadefs.createNamespace(req.principal, {
        ...namespaceInput(doc),
        associations: associations.map((a) => ({
          name: a.name!,
          prefix: a.prefix,
          propertiesTarget: a.properties_target,
        })),
        entries: [
          ...Object.entries(properties).map(([name, body]) => ({ kind: "property" as const, name, body })),
          ...objects.map((o) => ({ kind: "object" as const, name: o.name as string, body: bodyOf(o) })),
          ...tags.map((t) => ({ kind: "tag" as const, name: t.name, body: {} })),
        ],
      });
      return reply.code(201).send(renderNamespace(created));
    },
  );

  app.get<Ns & { Querystring: Query }>(
    "/metadefs/namespaces/:ns",
    { schema: { response: answers({ 200: A.namespace }) } },
    async (req) =>
      renderNamespace(await metadefs.getNamespace(req.principal, req.params.ns, req.query.resource_type)),
  );

  app.put<Ns>(
    "/metadefs/namespaces/:ns",
    { schema: { response: answers({ 200: A.namespace }) } },
    async (req) =>
      renderNamespace(
        await metadefs.updateNamespace(
          req.principal,
          req.params.ns,
          namespaceInput(metadefDocument(req, "namespace")),
        ),
      ),
  );

  app.delete<Ns>(
    "/metadefs/namespaces/:ns",
    { schema: { response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      await metadefs.deleteNamespace(req.principal, req.params.ns);
      return reply.code(204).send();
    },
  );

  for (const { path, kind, schema } of COLLECTIONS) {
    const answer =
      kind === "object" ? { one: A.object, list: A.objects } : { one: A.property, list: A.properties };
    const render = (e: MetadefEntry, ns: string) =>
      kind === "object" ? renderObject(e, ns) : renderProperty(e);

    app.get<Ns>(
      `/metadefs/namespaces/:ns/${path}`,
      { schema: { response: answers({ 200: answer.list }) } },
      async (req) => {
        const entries = await metadefs.listEntries(req.principal, req.params.ns, kind);
        return {
          [path]: kind === "property" ? propertyMap(entries) : entries.map((e) => render(e, req.params.ns)),
          schema: `/v2/schemas/metadefs/${path}`,
        };
      },
    );

    app.post<Ns>(
      `/metadefs/namespaces/:ns/${path}`,
      { schema: { response: answers({ 201: answer.one }) } },
      async (req, reply) => {
        const doc = metadefDocument(req, schema);
        const entry = await metadefs.createEntry(req.principal, req.params.ns, {
          kind,
          name: doc.name as string,
          body: bodyOf(doc),
        });
        return reply.code(201).send(render(entry, req.params.ns));
      },
    );

    app.delete<Ns>(
      `/metadefs/namespaces/:ns/${path}`,
      { schema: { response: answers({ 204: NO_BODY }) } },
      async (req, reply) => {
        await metadefs.clearNamespace(req.principal, req.params.ns, kind);
        return reply.code(204).send();
      },
    );

    app.get<NsEntry & { Querystring: Query }>(
      `/metadefs/namespaces/:ns/${path}/:name`,
      { schema: { response: answers({ 200: answer.one }) } },
      async (req) =>
        render(
          await metadefs.getEntry(
            req.principal,
            req.params.ns,
            kind,
            req.params.name,
            req.query.resource_type,
          ),
          req.params.ns,
        ),
    );

    app.put<NsEntry>(
      `/metadefs/namespaces/:ns/${path}/:name`,
      { schema: { response: answers({ 200: answer.one }) } },
      async (req) => {
        const doc = metadefDocument(req, schema);
        const entry = await metadefs.updateEntry(req.principal, req.params.ns, req.params.name, {
          kind,
          name: doc.name as string,
          body: bodyOf(doc),
        });
        return render(entry, req.params.ns);
      },
    );

    app.delete<NsEntry>(
      `/metadefs/namespaces/:ns/${path}/:name`,
      { schema: { response: answers({ 204: NO_BODY }) } },
      async (req, reply) => {
        await metadefs.deleteEntry(req.principal, req.params.ns, kind, req.params.name);
        return reply.code(204).send();
      },
    );
  }

  app.get<Ns & { Querystring: Query }>(
    "/metadefs/namespaces/:ns/tags",
    { schema: { response: answers({ 200: A.tags }) } },
    async (req) => {
      const q = req.query;
      const key = parseSortKey(TAG_SORT_KEYS, q.sort_key ?? "created_at");
      const dir = parseSortDir(q.sort_dir, "asc") === "asc" ? 1 : -1;
      const tags = (await metadefs.listEntries(req.principal, req.params.ns, "tag")).sort(
        (a, b) => dir * (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.name < b.name ? -1 : 1),
      );
      const start = q.marker === undefined ? 0 : tags.findIndex((t) => t.name === q.marker) + 1;
      if (q.marker !== undefined && start === 0) {
        throw invalidArgument(`Marker ${q.marker} is not a tag of namespace ${req.params.ns}.`);
      }
      const limit = q.limit === undefined ? tags.length : parseLimit(q.limit);
      return { tags: tags.slice(start, start + limit).map(renderTag) };
    },
  );

  app.post<Ns>(
    "/metadefs/namespaces/:ns/tags",
    { schema: { response: answers({ 201: A.tags }) } },
    async (req, reply) => {
      requireMediaType(req, ["application/json"]);
      const doc = objectBody(req.body);
      const tags = doc.tags;
      if (!Array.isArray(tags))
        throw invalidArgument("Provided object does not match schema 'tags': 'tags' is a required property");
      const names = tags.map((t: unknown, i) => {
        const name = (t as { name?: unknown } | null)?.name;
        if (typeof name !== "string") {
          throw invalidArgument(
            `Provided object does not match schema 'tags': tags[${i}].name must be a string`,
          );
        }
        return name;
      });
      const append = String(req.headers["x-openstack-append"] ?? "").toLowerCase() === "true";
      const created = await metadefs.createTags(req.principal, req.params.ns, names, append);
      return reply.code(201).send({ tags: created.map((t) => ({ name: t.name })) });
    },
  );

  app.delete<Ns>(
    "/metadefs/namespaces/:ns/tags",
    { schema: { response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      await metadefs.clearNamespace(req.principal, req.params.ns, "tag");
      return reply.code(204).send();
    },
  );

  app.post<NsEntry>(
    "/metadefs/namespaces/:ns/tags/:name",
    { schema: { response: answers({ 201: A.tag }) } },
    async (req, reply) => {
      const tag = await metadefs.createEntry(req.principal, req.params.ns, {
        kind: "tag",
        name: req.params.name,
        body: {},
      });
      return reply.code(201).send(renderTag(tag));
    },
  );

  app.get<NsEntry>(
    "/metadefs/namespaces/:ns/tags/:name",
    { schema: { response: answers({ 200: A.tag }) } },
    async (req) => renderTag(await metadefs.getEntry(req.principal, req.params.ns, "tag", req.params.name)),
  );

  app.put<NsEntry>(
    "/metadefs/namespaces/:ns/tags/:name",
    { schema: { response: answers({ 200: A.tag }) } },
    async (req) => {
      const doc = metadefDocument(req, "tag");
      return renderTag(
        await metadefs.updateEntry(req.principal, req.params.ns, req.params.name, {
          kind: "tag",
          name: doc.name as string,
          body: {},
        }),
      );
    },
  );

  app.delete<NsEntry>(
    "/metadefs/namespaces/:ns/tags/:name",
    { schema: { response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      await metadefs.deleteEntry(req.principal, req.params.ns, "tag", req.params.name);
      return reply.code(204).send();
    },
  );

  app.get<Ns>(
    "/metadefs/namespaces/:ns/resource_types",
    { schema: { response: answers({ 200: A.associations }) } },
    async (req) => ({
      resource_type_associations: (await metadefs.associations(req.principal, req.params.ns)).map(
        renderAssociation,
      ),
    }),
  );

  app.post<Ns>(
    "/metadefs/namespaces/:ns/resource_types",
    { schema: { response: answers({ 201: A.association }) } },
    async (req, reply) => {
      const doc = metadefDocument(req, "resource_type");
      const association = await metadefs.associate(req.principal, req.params.ns, {
        name: doc.name as string,
        prefix: doc.prefix as string | undefined,
        propertiesTarget: doc.properties_target as string | undefined,
      });
      return reply.code(201).send(renderAssociation(association));
    },
  );

  app.delete<{ Params: { ns: string; type: string } }>(
    "/metadefs/namespaces/:ns/resource_types/:type",
    { schema: { response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      await metadefs.dissociate(req.principal, req.params.ns, req.params.type);
      return reply.code(204).send();
    },
  );
};
