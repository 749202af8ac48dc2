import { bareMetalService } from "./baremetal/render.js";
import { computeService } from "./compute/render.js";
import type { ImageService } from "./yandex/image-service.js";

/** The Yandex-style image services by image kind: how each names its types and renders its Image. */
export const IMAGE_SERVICES: Record<"compute" | "baremetal", ImageService> = {
  compute: computeService,
  baremetal: bareMetalService,
};
