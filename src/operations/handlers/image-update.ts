import { alreadyExists, notFound } from "../../core/errors.js";
import type { ImagePatch } from "../../core/services/images.js";
import type { Operation } from "../../core/operation.js";
import type { Db } from "../../storage/meta/database.js";
import type { ImagesRepo } from "../../storage/meta/images-repo.js";
import type { OperationHandler, RunContext } from "../engine.js";

/** Applies a deferred metadata change (`beginUpdate`) and returns the image to active. */
export class UpdateImageHandler implements OperationHandler {
  readonly cancellable = false;

  constructor(private readonly deps: { images: ImagesRepo }) {}

  async run(ctx: RunContext): Promise<void> {
    const { patch } = ctx.op.payload as { patch: ImagePatch };
    const { images } = this.deps;
    await ctx.complete(async (trx) => {
      const current = await images.findById(trx, ctx.op.resourceId);
      if (!current || current.status === "deleting") throw notFound(`Image ${ctx.op.resourceId} not found`);
      const next = { ...current, ...patch, status: "active" as const };
      // The name was free when the update was accepted; make sure nobody took it since.
      if (
        next.name !== "" &&
        next.name !== current.name &&
        (await images.isNameTaken(trx, next.kind, next.folderId, next.name, next.id))
      ) {
        throw alreadyExists(`Image with name ${next.name} already exists in folder ${next.folderId}`);
      }
      const saved = await images.updateOrAbort(trx, next, Date.now());
      return { type: "image", image: saved };
    });
  }

  async rollback(trx: Db, op: Operation): Promise<void> {
    const image = await this.deps.images.findById(trx, op.resourceId);
    if (image?.status === "updating")
      await this.deps.images.update(trx, { ...image, status: "active" }, Date.now());
  }
}
