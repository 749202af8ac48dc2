import { bareMetalDialect } from "./baremetal/render.js";
import { computeDialect } from "./compute/render.js";
import type { ImageDialect } from "./yandex/image-dialect.js";

/** The Yandex-style image services by image kind: how each names its types and renders its Image. */
export const IMAGE_DIALECTS: Record<"compute" | "baremetal", ImageDialect> = {
  compute: computeDialect,
  baremetal: bareMetalDialect,
};
