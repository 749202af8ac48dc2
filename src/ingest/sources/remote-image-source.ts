import { VitrineError, failedPrecondition, isVitrineError, notFound } from "../../core/errors.js";
import type { RemoteImageFacts, ResumeFrom, SourceData } from "../../core/ports/ingest.js";
import type { RemoteImageSource } from "../../core/operation.js";
import type { UrlPolicy } from "../url-policy.js";
import { openUrl } from "./url-source.js";

/** The identity service's catalog as a caller's token sees it: the endpoints of each service. */
export interface ServiceCatalog {
  /** The endpoints of `type` services, or null when the credential is not (or no longer) valid. */
  endpointsOf(
    credential: string,
    type: string,
  ): Promise<{ url: string; region: string; interface: string }[] | null>;
}

/** Properties a glance-download copies from the source image (Glance's default `extra_properties`). */
const COPIED = [/^hw_/, /^trait:/, /^os_distro$/, /^os_secure_boot$/, /^os_type$/];

/** The largest image record read from the other service. */
const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Reads an image of another region's image service (glance-download): its endpoint from the
 * catalog the caller's token sees (region and interface as asked), its record and then its data
 * with that token, every request under the import URL policy (the same allow-list as
 * web-download), the token sent to the endpoint's origin only.
 */
export class RemoteImageReader {
  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly policy: UrlPolicy,
  ) {}

  async open(
    source: RemoteImageSource & { credential: string },
    signal: AbortSignal,
    resume?: ResumeFrom,
  ): Promise<SourceData> {
    const endpoints = await this.catalog.endpointsOf(source.credential, "image");
    if (endpoints === null) {
      throw failedPrecondition(
        "glance-download: the credential this import was asked with is no longer valid; ask for the import again",
      );
    }
    const endpoint = endpoints.find((e) => e.region === source.region && e.interface === source.interface);
    if (!endpoint) {
      throw notFound(
        `glance-download: no image service in region ${source.region} with interface ${source.interface}`,
      );
    }
    const base = endpoint.url.replace(/\/+$/, "").replace(/\/v2$/, "");
    const auth = { "x-auth-token": source.credential, accept: "application/json" };
    const image = await this.record(`${base}/v2/images/${source.remoteImageId}`, auth, signal, source);
    if (image.status !== "active") {
      throw failedPrecondition(
        `glance-download: image ${source.remoteImageId} in region ${source.region} is ${String(image.status)}, not active`,
      );
    }
    const data = await this.named(
      openUrl(this.policy, `${base}/v2/images/${source.remoteImageId}/file`, signal, resume, auth),
      source,
    );
    return { ...data, remote: factsOf(image) };
  }

  /** The remote image's record (its JSON, bounded). */
  private async record(
    url: string,
    auth: Record<string, string>,
    signal: AbortSignal,
    source: RemoteImageSource,
  ): Promise<Record<string, unknown>> {
    const { stream } = await this.named(openUrl(this.policy, url, signal, undefined, auth), source);
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of stream) {
      length += (chunk as Buffer).length;
      if (length > MAX_RECORD_BYTES) {
        stream.destroy();
        throw new VitrineError("UNAVAILABLE", "glance-download: the image service's answer is too large");
      }
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new VitrineError("UNAVAILABLE", "glance-download: the image service's answer is not JSON");
    }
  }

  /** The URL source's refusals, worded for this import. */
  private async named<T>(opening: Promise<T>, source: RemoteImageSource): Promise<T> {
    try {
      return await opening;
    } catch (err) {
      if (isVitrineError(err) && err.code === "NOT_FOUND") {
        throw notFound(`glance-download: image ${source.remoteImageId} not found in region ${source.region}`);
      }
      if (isVitrineError(err)) {
        throw new VitrineError(err.code, err.message.replace(/^uri:/, "glance-download:"));
      }
      throw err;
    }
  }
}

function factsOf(image: Record<string, unknown>): RemoteImageFacts {
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(image)) {
    if (typeof value === "string" && COPIED.some((re) => re.test(key))) properties[key] = value;
  }
  return {
    diskFormat: text(image.disk_format),
    containerFormat: text(image.container_format),
    properties,
    size: typeof image.size === "number" ? image.size : null,
    md5: text(image.checksum),
    sha512: image.os_hash_algo === "sha512" ? text(image.os_hash_value) : null,
  };
}
