import type { FastifyPluginAsync } from "fastify";
import { invalidArgument, notFound } from "../../core/errors.js";
import { modifyImage } from "./modify-image.js";
import type { OpenStackRoutesOptions } from "./routes.js";

type TagParams = { Params: { imageId: string; tag: string } };

/** Image tags: `PUT` adds one (adding a present tag changes nothing), `DELETE` removes one. */
export const tagRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (app, opts) => {
  app.put<TagParams>("/images/:imageId/tags/:tag", async (req, reply) => {
    const { tag } = req.params;
    if (tag.length < 1 || tag.length > 255) throw invalidArgument("A tag has 1 to 255 characters.");
    await modifyImage(opts.core, req.principal, req.params.imageId, (current) => ({
      tags: current.tags.includes(tag) ? current.tags : [...current.tags, tag],
    }));
    return reply.code(204).send();
  });

  app.delete<TagParams>("/images/:imageId/tags/:tag", async (req, reply) => {
    const { tag } = req.params;
    await modifyImage(opts.core, req.principal, req.params.imageId, (current) => {
      if (!current.tags.includes(tag)) throw notFound("The resource could not be found.");
      return { tags: current.tags.filter((t) => t !== tag) };
    });
    return reply.code(204).send();
  });
};
