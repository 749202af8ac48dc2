import { randomUUID } from "node:crypto";

/**
 * The hidden OpenStack image `vitrine image create --file` uploads into before the Compute image
 * is made from it. It lives as long as the command; `vitrine doctor` finds one left behind (a
 * killed client) by this property and reports it, and `--repair` removes it.
 */
export const STAGING_PROPERTY = "vitrine_cli_upload";

/** The name prefix of those images (a unique tail: names are unique in a folder). */
const STAGING_NAME_PREFIX = "vitrine-cli-upload-";

export function stagingImage(folderId: string, diskFormat: string): Record<string, unknown> {
  return {
    name: `${STAGING_NAME_PREFIX}${randomUUID()}`,
    owner: folderId,
    disk_format: diskFormat,
    container_format: "bare",
    visibility: "private",
    os_hidden: true,
    [STAGING_PROPERTY]: "true",
  };
}
