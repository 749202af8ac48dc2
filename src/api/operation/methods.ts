import type { Core } from "../../core/core.js";
import type { Principal } from "../../core/principal.js";
import type { ImageService } from "../yandex/image-service.js";
import { renderOperation } from "../yandex/operation-render.js";
import { Rules } from "../yandex/validation.js";

/** The OperationService, one function per RPC (request message in, proto3 JSON out), for REST and gRPC. */
export function operationMethods(core: Core, services: Record<"compute" | "baremetal", ImageService>) {
  const checkId = (id: string | undefined) => {
    new Rules().id("operationId", id).check();
    return id!;
  };
  return {
    Get: async (p: Principal, req: { operationId?: string }) =>
      renderOperation(await core.operations.get(p, checkId(req.operationId)), services),
    Cancel: async (p: Principal, req: { operationId?: string }) =>
      renderOperation(await core.operations.cancel(p, checkId(req.operationId)), services),
  };
}

export type OperationMethods = ReturnType<typeof operationMethods>;
