import { NO_BODY, answers } from "../http/response-shapes.js";
import { OPENSTACK_ANSWERS as A } from "./responses.js";
import type { FastifyPluginAsync } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { invalidArgument } from "../../core/errors.js";
import { MEMBER_STATUSES } from "../../core/member.js";
import { renderMember } from "./render.js";
import type { OpenStackRoutesOptions } from "./routes.js";

const ImageParams = Type.Object({ imageId: Type.String() });
const MemberParams = Type.Object({ imageId: Type.String(), memberId: Type.String() });
const AddMemberBody = Type.Object({ member: Type.String({ minLength: 1, maxLength: 255 }) });
const MemberStatusBody = Type.Object({
  status: Type.Union(MEMBER_STATUSES.map((s) => Type.Literal(s))),
});

/** Image members: the owner shares with projects, each project accepts or rejects its share. */
export const memberRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { members } = opts.core;

  app.post(
    "/images/:imageId/members",
    {
      schema: { params: ImageParams, body: AddMemberBody, response: answers({ 200: A.member }) },
      attachValidation: true,
    },
    async (req) => {
      if (req.validationError) {
        throw invalidArgument('Member to be added not specified: send {"member": "<project id>"}.');
      }
      const { imageId } = req.params;
      return renderMember(await members.add(req.principal, imageId, req.body.member), imageId);
    },
  );

  app.get(
    "/images/:imageId/members",
    { schema: { params: ImageParams, response: answers({ 200: A.members }) } },
    async (req) => ({
      members: (await members.list(req.principal, req.params.imageId)).map((m) =>
        renderMember(m, req.params.imageId),
      ),
      schema: "/v2/schemas/members",
    }),
  );

  app.get(
    "/images/:imageId/members/:memberId",
    { schema: { params: MemberParams, response: answers({ 200: A.member }) } },
    async (req) =>
      renderMember(
        await members.get(req.principal, req.params.imageId, req.params.memberId),
        req.params.imageId,
      ),
  );

  app.put(
    "/images/:imageId/members/:memberId",
    {
      schema: { params: MemberParams, body: MemberStatusBody, response: answers({ 200: A.member }) },
      attachValidation: true,
    },
    async (req) => {
      if (req.validationError) {
        throw invalidArgument('Incorrect request: Status must be "pending", "accepted" or "rejected".');
      }
      const { imageId, memberId } = req.params;
      return renderMember(
        await members.setStatus(req.principal, imageId, memberId, req.body.status),
        imageId,
      );
    },
  );

  app.delete(
    "/images/:imageId/members/:memberId",
    { schema: { params: MemberParams, response: answers({ 204: NO_BODY }) } },
    async (req, reply) => {
      await members.remove(req.principal, req.params.imageId, req.params.memberId);
      return reply.code(204).send();
    },
  );
};
