import type { ReadableSource, ResumeFrom, SourceData, SourceOpener } from "../../core/ports/ingest.js";
import type { UrlPolicy } from "../url-policy.js";
import { openUrl } from "./url-source.js";
import { failedPrecondition } from "../../core/errors.js";
import type { RemoteImageReader } from "./remote-image-source.js";
import type { VolumeSource } from "./volume-source.js";

/**
 * The sources a create reads: URLs under the import policy, disks and snapshots from their
 * volumes, and (with Keystone) images of other regions' image services.
 */
export class ImageSourceOpener implements SourceOpener {
  constructor(
    private readonly urlPolicy: UrlPolicy,
    private readonly volumes: VolumeSource,
    private readonly remote: RemoteImageReader | null = null,
  ) {}

  open(source: ReadableSource, signal: AbortSignal, resume?: ResumeFrom): Promise<SourceData> {
    if (source.type === "uri") return openUrl(this.urlPolicy, source.uri, signal, resume);
    if (source.type === "remote") {
      if (!this.remote)
        throw failedPrecondition("glance-download needs the identity service (Keystone mode)");
      return this.remote.open(source, signal, resume);
    }
    return this.volumes.open(source.type, source.id);
  }
}
