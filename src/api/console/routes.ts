import { Type } from "@sinclair/typebox";
import { answers } from "../http/response-shapes.js";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/** The built console (scripts/build-console.mjs): dist/console beside dist/api. */
const CONSOLE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "console");

/**
 * The page may run only its own script and style, talk only to this origin, and never be framed:
 * an image name or property that looks like markup stays text, and an injected script has
 * nowhere to come from or send to.
 */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export interface ConsoleOptions {
  /** Keystone mode: the console offers a user/password sign-in, forwarded to Keystone. */
  keystoneSignIn:
    | ((
        user: string,
        password: string,
        project: string,
      ) => Promise<{ token: string; projectId: string } | null>)
    | null;
}

/**
 * The web console at /console: static files only (it is a client of the public APIs, with the
 * user's token), plus the one thing a browser cannot do itself — ask Keystone for a token across
 * origins. Assets have content hashes in their names and are cached for a year; the page itself
 * is revalidated every time, so a new build shows at once.
 */
const ConsoleConfig = Type.Object({ keystone: Type.Boolean() }, { additionalProperties: false });
const SignedIn = Type.Object(
  { token: Type.String(), projectId: Type.String() },
  { additionalProperties: false },
);
const Refusal = Type.Object({ message: Type.String() }, { additionalProperties: false });

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const index = path.join(CONSOLE_DIR, "index.html");
  const secure = (reply: FastifyReply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    return reply;
  };

  app.get("/console", { config: { bodyNotJson: "a redirect to /console/" } }, async (_req, reply) =>
    reply.redirect("/console/", 301),
  );
  app.get("/console/", { config: { bodyNotJson: "the console's page" } }, async (_req, reply) => {
    if (!fs.existsSync(index)) {
      return reply.code(404).type("text/plain").send("The console is not built: run npm run build\n");
    }
    return secure(reply)
      .header("cache-control", "no-cache")
      .type("text/html; charset=utf-8")
      .send(fs.createReadStream(index));
  });

  await app.register(fastifyStatic, {
    root: path.join(CONSOLE_DIR, "assets"),
    prefix: "/console/assets/",
    immutable: true,
    maxAge: "365d",
    index: false,
    setHeaders: (res) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    },
  });

  app.get(
    "/console/config.json",
    { schema: { response: answers({ 200: ConsoleConfig }) } },
    async (_req, reply) =>
      reply.header("cache-control", "no-cache").send({ keystone: opts.keystoneSignIn !== null }),
  );

  app.post<{ Body: { user?: unknown; password?: unknown; project?: unknown } }>(
    "/console/keystone/tokens",
    {
      schema: {
        body: {
          type: "object",
          required: ["user", "password", "project"],
          properties: {
            user: { type: "string", minLength: 1, maxLength: 255 },
            password: { type: "string", minLength: 1, maxLength: 4096 },
            project: { type: "string", minLength: 1, maxLength: 255 },
          },
        },
        response: answers({ 200: SignedIn, 401: Refusal, 404: Refusal }),
      },
    },
    async (req, reply) => {
      if (!opts.keystoneSignIn) {
        return reply.code(404).send({ message: "This service does not use Keystone: sign in with a token" });
      }
      const { user, password, project } = req.body as { user: string; password: string; project: string };
      const issued = await opts.keystoneSignIn(user, password, project);
      if (!issued) {
        return reply.code(401).send({ message: "Keystone refused the user name, password or project" });
      }
      return reply.header("cache-control", "no-store").send(issued);
    },
  );
}
