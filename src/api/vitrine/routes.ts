import type { FastifyPluginAsync } from "fastify";
import type { ImageRoutesOptions } from "../yandex/image-service.js";
import { useYandexConventions } from "../yandex/plugin.js";
import { conversionRoutes } from "./conversion-routes.js";
import { lifecycleRoutes } from "./lifecycle-routes.js";
import { quotaRoutes } from "./quota-routes.js";

/**
 * Vitrine's own API under `/vitrine/v1`, in the Yandex conventions (set once here: one not-found
 * handler per prefix): quotas (README "Quotas"), lifecycle (README "Lifecycle") and conversion (README
 * "Conversion and export").
 */
export const vitrineRoutes: FastifyPluginAsync<ImageRoutesOptions> = async (app, opts) => {
  useYandexConventions(app, opts.auth);
  const { core, auth, services } = opts;
  await app.register(quotaRoutes, { core, auth });
  await app.register(lifecycleRoutes, { core, auth, services });
  await app.register(conversionRoutes, { core, auth, services });
};
