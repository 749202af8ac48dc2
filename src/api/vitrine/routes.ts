import type { FastifyPluginAsync } from "fastify";
import type { ImageRoutesOptions } from "../yandex/image-service.js";
import { useYandexConventions } from "../yandex/plugin.js";
import { conversionRoutes } from "./conversion-routes.js";
import { lifecycleRoutes } from "./lifecycle-routes.js";
import { quotaRoutes } from "./quota-routes.js";
import { eventRoutes } from "./event-routes.js";

/**
 * Vitrine's own API under `/vitrine/v1`, in the Yandex conventions (set once here: one not-found
 * handler per prefix): quotas (README "Quotas"), lifecycle (README "Lifecycle"), conversion (README
 * "Conversion and export"), webhooks and audit records (README "Events and audit").
 */
export const vitrineRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (app, opts) => {
  useYandexConventions(app, opts.auth);
  const { core, auth, services } = opts;
  await app.register(quotaRoutes, { core, auth });
  await app.register(lifecycleRoutes, { core, auth, services });
  await app.register(conversionRoutes, { core, auth, services });
  await app.register(eventRoutes, { core, auth });
};
