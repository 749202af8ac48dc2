import { answers } from "../http/response-shapes.js";
import { OPENSTACK_ANSWERS as A } from "./responses.js";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { baseUrl } from "./conventions.js";

/** The v2 minor versions we speak, newest first (Glance 25 lists the same). */
const VERSIONS = [
  "2.15",
  "2.13",
  "2.12",
  "2.11",
  "2.10",
  "2.9",
  "2.8",
  "2.7",
  "2.6",
  "2.5",
  "2.4",
  "2.3",
  "2.2",
  "2.1",
  "2.0",
];

function versionList(req: FastifyRequest, publicUrl: string | null) {
  const href = `${baseUrl(req, publicUrl)}/v2/`;
  return VERSIONS.map((v, i) => ({
    id: `v${v}`,
    status: i === 0 ? "CURRENT" : "SUPPORTED",
    links: [{ rel: "self", href }],
  }));
}

/**
 * Version discovery, without a token: `GET /` answers 300 Multiple Choices and `GET /versions`
 * 200, both with the list; `GET /v2` describes the current version (keystoneauth reads either).
 */
export const versionRoutes: FastifyPluginAsync<{ publicUrl: string | null }> = async (app, opts) => {
  app.get("/", { schema: { response: answers({ 300: A.versions }) } }, async (req, reply) =>
    reply.code(300).send({ versions: versionList(req, opts.publicUrl) }),
  );
  app.get("/versions", { schema: { response: answers({ 200: A.versions }) } }, async (req) => ({
    versions: versionList(req, opts.publicUrl),
  }));
  const current = async (req: FastifyRequest) => ({ version: versionList(req, opts.publicUrl)[0] });
  app.get("/v2", { schema: { response: answers({ 200: A.version }) } }, current);
  app.get("/v2/", { schema: { response: answers({ 200: A.version }) } }, current);
};
