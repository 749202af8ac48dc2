import { LRUCache } from "lru-cache";
import type { LimitSource } from "../core/ports/limit-source.js";
import { MIB, type QuotaLimits, isByteResource, isQuotaResource } from "../core/quotas/quota.js";
import { VitrineError } from "../core/errors.js";

/** What reads Keystone's API as this service (auth/keystone.ts). */
export interface KeystoneReader {
  readAsSystem<T>(path: string): Promise<T>;
}

export interface KeystoneLimitsOptions {
  /** The image service in Keystone's catalog: its name or id; null: the one service of type `image`. */
  service: string | null;
  /** Only limits of this region (null: limits of any region, and those without one). */
  region: string | null;
  /** How long limits read from Keystone are used before they are read again. */
  cacheMs: number;
}

interface RegisteredLimit {
  resource_name: string;
  default_limit: number;
}
interface ProjectLimit {
  resource_name: string;
  resource_limit: number;
}

/**
 * Limits from Keystone's unified limits, as Glance reads them (`use_keystone_limits`): registered
 * limits of the image service are everyone's defaults, a project's limits override them; Glance's
 * resource names, and its units (MiB for the two sizes). Read with a system-scoped token and kept
 * for `cacheMs`, so a change in Keystone holds within that time on every node.
 */
export class KeystoneLimits implements LimitSource {
  readonly origin = "keystone";
  private serviceId: string | null = null;
  private readonly cache: LRUCache<string, QuotaLimits>;

  constructor(
    private readonly keystone: KeystoneReader,
    private readonly opts: KeystoneLimitsOptions,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: Math.max(1, opts.cacheMs) });
  }

  async limitsFor(projectId: string): Promise<QuotaLimits> {
    const cached = this.cache.get(projectId);
    if (cached) return cached;
    const service = await this.service();
    const region = this.opts.region ? `&region_id=${encodeURIComponent(this.opts.region)}` : "";
    const [registered, own] = await Promise.all([
      this.keystone.readAsSystem<{ registered_limits: RegisteredLimit[] }>(
        `/v3/registered_limits?service_id=${encodeURIComponent(service)}${region}`,
      ),
      this.keystone.readAsSystem<{ limits: ProjectLimit[] }>(
        `/v3/limits?service_id=${encodeURIComponent(service)}&project_id=${encodeURIComponent(projectId)}${region}`,
      ),
    ]);
    const limits: QuotaLimits = {};
    const set = (name: string, value: number) => {
      if (isQuotaResource(name)) limits[name] = isByteResource(name) ? value * MIB : value;
    };
    for (const r of registered.registered_limits) set(r.resource_name, r.default_limit);
    for (const l of own.limits) set(l.resource_name, l.resource_limit);
    this.cache.set(projectId, limits);
    return limits;
  }

  /** The image service's id in Keystone, looked up once. */
  private async service(): Promise<string> {
    if (this.serviceId) return this.serviceId;
    const { services } = await this.keystone.readAsSystem<{
      services: { id: string; name: string; type: string }[];
    }>("/v3/services");
    const wanted = this.opts.service;
    const found = wanted
      ? services.filter((s) => s.id === wanted || s.name === wanted)
      : services.filter((s) => s.type === "image");
    if (found.length !== 1) {
      throw new VitrineError(
        "UNAVAILABLE",
        wanted
          ? `Keystone has ${found.length === 0 ? "no" : "more than one"} service named ${wanted} to read limits of`
          : `Keystone's catalog has ${found.length === 0 ? "no" : "more than one"} service of type image: set VITRINE_KEYSTONE_LIMITS_SERVICE`,
      );
    }
    this.serviceId = found[0]!.id;
    return this.serviceId;
  }
}
