import { storeRoutes } from "./store-routes.js";
import type { FastifyPluginAsync } from "fastify";
import type { Authenticator } from "../../auth/authenticator.js";
import type { OpenStackProfile } from "../../config.js";
import type { Core } from "../../core/core.js";
import type { MinUploadRate } from "../http/upload-rate-guard.js";
import { dataRoutes } from "./data-routes.js";
import { resumableRoutes } from "./resumable-routes.js";
import { imageRoutes } from "./image-routes.js";
import { memberRoutes } from "./member-routes.js";
import { metadefRoutes } from "./metadef-routes.js";
import { requireToken, useOpenStackConventions } from "./conventions.js";
import { tagRoutes } from "./tag-routes.js";
import { taskRoutes } from "./task-routes.js";
import { versionRoutes } from "./versions.js";

export interface OpenStackRoutesOptions {
  core: Core;
  auth: Authenticator;
  maxImageBytes: number;
  maxRequestBodyBytes: number;
  publicUrl: string | null;
  /** The slowest upload accepted (image data PUTs). */
  minUploadRate: MinUploadRate;
  /** Whose defaults apply where the seed (IMS) and Glance differ. */
  profile: OpenStackProfile;
}

/** The OpenStack Image API v2 (Glance-compatible), with the public-cloud extension fields. */
export const openStackRoutes: FastifyPluginAsync<OpenStackRoutesOptions> = async (app, opts) => {
  useOpenStackConventions(app, opts.maxRequestBodyBytes);
  await app.register(versionRoutes, { publicUrl: opts.publicUrl });
  await app.register(
    async (v2) => {
      requireToken(v2, opts.auth);
      await v2.register(imageRoutes, opts);
      await v2.register(tagRoutes, opts);
      await v2.register(dataRoutes, opts);
      await v2.register(resumableRoutes, opts);
      await v2.register(memberRoutes, opts);
      await v2.register(taskRoutes, opts);
      await v2.register(metadefRoutes, opts);
      await v2.register(storeRoutes, opts);
    },
    { prefix: "/v2" },
  );
};
