import type { Authenticator } from "../../auth/authenticator.js";
import type { Core } from "../../core/core.js";
import type { Image, ImageKind } from "../../core/image.js";

/** How one Yandex-style image service names its types and renders its Image. */
export interface ImageService {
  /** Proto package, e.g. "yandex.cloud.compute.v1". */
  pkg: string;
  renderImage(image: Image): Record<string, unknown>;
}

/** What a Yandex-style images plugin is given: the image use cases, authentication, and the image services. */
export interface ImageRoutesOptions {
  core: Core;
  auth: Authenticator;
  services: Record<ImageKind, ImageService>;
}
