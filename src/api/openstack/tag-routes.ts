import { NO_BODY, answers } from "../http/response-shapes.js";
import type { FastifyPluginAsync } from "fastify";
import { invalidArgument } from "../../core/errors.js";
import type { OpenStackRoutesOptions } from "./routes.js";
import { updatePolicy } from "./update-policy.js";

type TagParams = { Params: { imageId: string; tag: string } };

/** Image tags: `PUT` adds one (adding a present tag changes nothing), `DELETE` removes one (404 if absent). */
export const tagRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (app, opts) => {
  const { images } = opts.core;
  const policy = updatePolicy(opts.profile);

  app.put<TagParams>(
    "/images/:imageId/tags/:tag",
    { schema: { response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      const { tag } = req.params;
      if (tag.length < 1 || tag.length > 255) throw invalidArgument("A tag has 1 to 255 characters.");
      await images.update(
        req.principal,
        { uuid: req.params.imageId },
        { set: {}, tags: { add: [tag] } },
        policy,
      );
      return reply.code(204).send();
    },
  );

  app.delete<TagParams>(
    "/images/:imageId/tags/:tag",
    { schema: { response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      const { tag } = req.params;
      await images.update(
        req.principal,
        { uuid: req.params.imageId },
        { set: {}, tags: { remove: [tag] } },
        policy,
      );
      return reply.code(204).send();
    },
  );
};
