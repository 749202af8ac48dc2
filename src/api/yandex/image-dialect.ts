import type { Authenticator } from "../../auth/authenticator.js";
import type { Core } from "../../core/core.js";
import type { Image, ImageKind } from "../../core/image.js";

/** How one Yandex-style image service names its types and renders its Image. */
export interface ImageDialect {
  /** Proto package, e.g. "yandex.cloud.compute.v1". */
  pkg: string;
  renderImage(image: Image): Record<string, unknown>;
}

/** What a Yandex-style images plugin is given: the image use cases, authentication, and the dialects. */
export interface ImageRoutesOptions {
  core: Core;
  auth: Authenticator;
  dialects: Record<ImageKind, ImageDialect>;
}
