import type { Principal } from "../../core/principal.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the dialect's authentication hook before any handler runs. */
    principal: Principal;
  }
}

export {};
