import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { TSchema } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";

/**
 * Every route declares the shape of what it answers (`schema.response`, TypeBox or the JSON
 * schemas OpenStack serves): the declarations are the API's contract, and the Yandex ones are
 * checked against the protos gRPC speaks (test/unit/response-shapes.test.ts), so a field cannot
 * drift between REST and gRPC.
 *
 * Serialization stays `JSON.stringify` whatever is declared: a declared shape never changes an
 * answer. With `check` on (VITRINE_CHECK_RESPONSES, which the tests turn on) every JSON answer is
 * validated against its declaration and one that does not match fails as an internal error,
 * naming the route and the mismatch; and a route that declares nothing refuses to register.
 */
export function useResponseShapes(app: FastifyInstance, check: boolean): void {
  if (!check) {
    app.setSerializerCompiler(() => JSON.stringify);
    return;
  }
  const shapes = new ResponseShapes();
  app.setSerializerCompiler(({ schema, method, url, httpStatus }) => {
    const validate = shapes.compile(schema);
    return (data: unknown) => {
      if (!validate(data))
        throw new ResponseShapeError(`${method} ${url}`, httpStatus ?? "any", validate.errors ?? []);
      return JSON.stringify(data);
    };
  });
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === "HEAD")) return; // Fastify's HEAD twin of a GET route
    // Hidden routes are no API's (the console's static files).
    if (
      route.schema?.response ||
      route.config?.bodyNotJson ||
      (route.schema as { hide?: boolean } | undefined)?.hide
    )
      return;
    throw new Error(`${methods.join(",")} ${route.url} declares no response shape (schema.response)`);
  });
}

/**
 * A route's `schema.response`: the shape of its answer by status, typed loosely (handlers
 * return the dialects' JSON documents, which the declaration describes rather than types).
 */
export const answers = (byStatus: Record<number, unknown>): Record<number, TSchema> =>
  byStatus as Record<number, TSchema>;

/** No body (204 No Content, 202 Accepted). */
export const NO_BODY = { type: "null", description: "no body" } as const;

/** The validators of the declared shapes (their own Ajv: Glance's schemas carry keywords of their own). */
export class ResponseShapes {
  private readonly ajv = new Ajv({ strict: false, allErrors: true })
    // The formats Glance's served schemas use: an answer must hold what they promise.
    .addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/)
    .addFormat("regex", (pattern: string) => {
      try {
        new RegExp(pattern, "u");
        return true;
      } catch {
        return false;
      }
    });
  private readonly compiled = new WeakMap<object, ValidateFunction>();

  compile(schema: unknown): ValidateFunction {
    const key = schema as object;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(key);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}

/** An answer that left its declared shape: a bug in the service, found by the tests. */
export class ResponseShapeError extends Error {
  constructor(where: string, status: string | number, errors: ErrorObject[]) {
    const found = errors
      .slice(0, 5)
      .map(
        (e) => `${e.instancePath || "/"} ${e.message ?? ""}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
      )
      .join("; ");
    super(`the ${status} answer of ${where} does not match its declared shape: ${found}`);
  }
}
