import type { Principal } from "../../core/principal.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the dialect's authentication hook before any handler runs. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /**
     * The route answers callers without credentials too; the core decides what such a caller may
     * see (an image bound to `allUsers`) and asks it to authenticate for anything else.
     */
    allowAnonymous?: boolean;
    /**
     * Why the route declares no JSON response (it streams bytes, serves a page, redirects):
     * every other route declares its response shapes (http/response-shapes.ts).
     */
    bodyNotJson?: string;
  }
}

export {};
