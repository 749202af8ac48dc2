import type { ReadableSource, ResumeFrom, SourceData, SourceOpener } from "../../core/ports/ingest.js";
import type { UrlPolicy } from "../url-policy.js";
import { openUrl } from "./url-source.js";
import type { VolumeSource } from "./volume-source.js";

/** The sources a create reads: URLs under the import policy, disks and snapshots from their volumes. */
export class ImageSourceOpener implements SourceOpener {
  constructor(
    private readonly urlPolicy: UrlPolicy,
    private readonly volumes: VolumeSource,
  ) {}

  open(source: ReadableSource, signal: AbortSignal, resume?: ResumeFrom): Promise<SourceData> {
    if (source.type === "uri") return openUrl(this.urlPolicy, source.uri, signal, resume);
    return this.volumes.open(source.type, source.id);
  }
}
