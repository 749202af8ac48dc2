import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { Session, waitForOperation } from "@yandex-cloud/nodejs-sdk";
import { image as bmImage, imageService as bmImageService } from "@yandex-cloud/nodejs-sdk/baremetal-v1alpha";
import { image as computeImage, imageService } from "@yandex-cloud/nodejs-sdk/compute-v1";
import { operationService } from "@yandex-cloud/nodejs-sdk/operation";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image, iso } from "../helpers/fixtures.js";
import { selfSignedCertificate } from "../helpers/grpc.js";
import { projectToken } from "../helpers/openstack.js";
import { type RunningServer, startServer, waitOperation } from "../helpers/server.js";

type Operation = Awaited<ReturnType<typeof waitForOperation>>;

/**
 * The official Node SDK (3.2.0) against Vitrine's gRPC listener over TLS, as the README shows it:
 * every RPC of the Compute and BareMetal image services and the operation service, with the same
 * images and operations seen over REST.
 */
describe("real client: @yandex-cloud/nodejs-sdk over gRPC with TLS", () => {
  let server: RunningServer;
  let files: FileServer;
  let session: Session;
  let endpoint: string;
  let compute: ReturnType<typeof computeClient>;
  let bareMetal: ReturnType<typeof bareMetalClient>;
  const computeClient = () => session.client(imageService.ImageServiceClient, endpoint);
  const bareMetalClient = () => session.client(bmImageService.ImageServiceClient, endpoint);
  const wait = (op: Operation) => waitForOperation(op, session, 60_000, endpoint);

  before(async () => {
    const tls = selfSignedCertificate();
    files = await startFileServer();
    server = await startServer({
      env: {
        VITRINE_TLS_CERT: tls.cert,
        VITRINE_TLS_KEY: tls.key,
        VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1",
      },
    });
    endpoint = `localhost:${server.grpcAddress.split(":").pop()}`;
    session = new Session({
      iamToken: server.token,
      ssl: { rootCerts: fs.readFileSync(tls.cert) },
      pollInterval: 100,
    });
    compute = computeClient();
    bareMetal = bareMetalClient();
  });
  after(async () => {
    await server?.stop();
    await files?.close();
  });

  test("Compute ImageService: create from a URI, get, latest of a family, list, update, operations, delete", async () => {
    const fixture = image("qcow2", 8);
    const uri = files.serve("grpc.qcow2", fixture.path);
    const started = await compute.create(
      imageService.CreateImageRequest.fromPartial({
        folderId: "grpc-folder",
        name: "from-grpc",
        family: "grpc-family",
        labels: { via: "sdk" },
        uri,
      }),
    );
    assert.equal(started.description, "Create image");
    const done = await wait(started);
    assert.ok(done.done && done.response, JSON.stringify(done.error));
    const created = computeImage.Image.decode(done.response.value);
    assert.equal(created.name, "from-grpc");
    assert.equal(created.status, computeImage.Image_Status.READY);
    assert.equal(created.storageSize, fixture.size);
    assert.deepEqual(created.labels, { via: "sdk" });

    // The same image over REST, field for field where both have it.
    const rest = await server.request("GET", `/compute/v1/images/${created.id}`);
    assert.equal(rest.body.name, created.name);
    assert.equal(rest.body.storageSize, String(created.storageSize));
    assert.equal(Date.parse(rest.body.createdAt), created.createdAt!.getTime());

    const got = await compute.get(imageService.GetImageRequest.fromPartial({ imageId: created.id }));
    assert.equal(got.id, created.id);
    const latest = await compute.getLatestByFamily(
      imageService.GetImageLatestByFamilyRequest.fromPartial({
        folderId: "grpc-folder",
        family: "grpc-family",
      }),
    );
    assert.equal(latest.id, created.id);
    const list = await compute.list(
      imageService.ListImagesRequest.fromPartial({
        folderId: "grpc-folder",
        filter: 'name="from-grpc"',
        pageSize: 10,
      }),
    );
    assert.deepEqual(
      list.images.map((i) => i.id),
      [created.id],
    );

    const updated = await wait(
      await compute.update(
        imageService.UpdateImageRequest.fromPartial({
          imageId: created.id,
          updateMask: { paths: ["description", "labels"] },
          description: "changed over gRPC",
          labels: { via: "sdk", step: "two" },
        }),
      ),
    );
    const afterUpdate = computeImage.Image.decode(updated.response!.value);
    assert.equal(afterUpdate.description, "changed over gRPC");
    assert.equal(afterUpdate.name, "from-grpc", "left alone: not in the mask");
    assert.deepEqual(afterUpdate.labels, { via: "sdk", step: "two" });

    const ops = await compute.listOperations(
      imageService.ListImageOperationsRequest.fromPartial({ imageId: created.id }),
    );
    assert.deepEqual(
      ops.operations.map((o) => o.description),
      ["Update image", "Create image"],
    );

    const deleted = await wait(
      await compute.delete(imageService.DeleteImageRequest.fromPartial({ imageId: created.id })),
    );
    assert.equal(deleted.response?.typeUrl, "type.googleapis.com/google.protobuf.Empty");
    await assert.rejects(
      compute.get(imageService.GetImageRequest.fromPartial({ imageId: created.id })),
      (err: Error) => /NOT_FOUND/.test(err.message),
    );
  });

  test("Compute access bindings: set, list, update; a viewer then reads the image with its own token", async () => {
    const uri = files.serve("bind.qcow2", image("qcow2", 4).path);
    const done = await wait(
      await compute.create(imageService.CreateImageRequest.fromPartial({ folderId: "grpc-bind", uri })),
    );
    const id = computeImage.Image.decode(done.response!.value).id;
    const viewer = projectToken(server, "someone-else", "viewer");
    const asViewer = new Session({
      iamToken: viewer,
      ssl: { rootCerts: sessionRootCert(server) },
      pollInterval: 100,
    });
    const viewerCompute = asViewer.client(imageService.ImageServiceClient, endpoint);
    await assert.rejects(
      viewerCompute.get(imageService.GetImageRequest.fromPartial({ imageId: id })),
      (err: Error) => /PERMISSION_DENIED|NOT_FOUND/.test(err.message),
    );

    type SetRequest = Parameters<typeof compute.setAccessBindings>[0];
    const set = await wait(
      await compute.setAccessBindings({
        $type: "yandex.cloud.access.SetAccessBindingsRequest",
        resourceId: id,
        accessBindings: [
          {
            roleId: "viewer",
            subject: { id: "allAuthenticatedUsers", type: "system" },
          },
        ],
      } as SetRequest),
    );
    assert.ok(set.response, JSON.stringify(set.error));
    const listed = await compute.listAccessBindings({
      $type: "yandex.cloud.access.ListAccessBindingsRequest",
      resourceId: id,
      pageSize: 0,
      pageToken: "",
    } as Parameters<typeof compute.listAccessBindings>[0]);
    assert.deepEqual(
      listed.accessBindings.map((b) => [b.roleId, b.subject?.id]),
      [["viewer", "allAuthenticatedUsers"]],
    );
    const seen = await viewerCompute.get(imageService.GetImageRequest.fromPartial({ imageId: id }));
    assert.equal(seen.id, id);

    type UpdateRequest = Parameters<typeof compute.updateAccessBindings>[0];
    const removed = await wait(
      await compute.updateAccessBindings({
        $type: "yandex.cloud.access.UpdateAccessBindingsRequest",
        resourceId: id,
        accessBindingDeltas: [
          {
            action: 2, // REMOVE
            accessBinding: {
              roleId: "viewer",
              subject: { id: "allAuthenticatedUsers", type: "system" },
            },
          },
        ],
      } as UpdateRequest),
    );
    assert.ok(removed.response, JSON.stringify(removed.error));
    await assert.rejects(viewerCompute.get(imageService.GetImageRequest.fromPartial({ imageId: id })));
  });

  test("BareMetal ImageService: an ISO from a URI with its MD5, list, update, operations, delete", async () => {
    const fixture = iso("grpc-boot");
    const uri = files.serve("boot.iso", fixture.path);
    const done = await wait(
      await bareMetal.create(
        bmImageService.CreateImageRequest.fromPartial({ folderId: "grpc-bm", name: "boot-iso", uri }),
      ),
    );
    const created = bmImage.Image.decode(done.response!.value);
    assert.equal(created.checksum, fixture.md5);
    assert.equal(created.status, bmImage.Image_Status.READY);
    const got = await bareMetal.get(bmImageService.GetImageRequest.fromPartial({ imageId: created.id }));
    assert.equal(got.name, "boot-iso");
    const list = await bareMetal.list(bmImageService.ListImagesRequest.fromPartial({ folderId: "grpc-bm" }));
    assert.deepEqual(
      list.images.map((i) => i.id),
      [created.id],
    );
    const updated = await wait(
      await bareMetal.update(
        bmImageService.UpdateImageRequest.fromPartial({
          imageId: created.id,
          updateMask: { paths: ["name"] },
          name: "renamed-iso",
        }),
      ),
    );
    assert.equal(bmImage.Image.decode(updated.response!.value).name, "renamed-iso");
    const ops = await bareMetal.listOperations(
      bmImageService.ListImageOperationsRequest.fromPartial({ imageId: created.id }),
    );
    assert.equal(ops.operations.length, 2);
    await wait(
      await bareMetal.delete(bmImageService.DeleteImageRequest.fromPartial({ imageId: created.id })),
    );
    const rest = await server.request("GET", `/baremetal/v1alpha/images/${created.id}`);
    assert.equal(rest.status, 404);
  });

  test("OperationService: an operation started over REST is followed and cancelled over gRPC, and the other way round", async () => {
    const operations = session.client(operationService.OperationServiceClient, endpoint);
    // A source that trickles keeps the create running until it is cancelled.
    files.serve("slow.qcow2", image("qcow2", 32).path);
    const stalled = await server.request("POST", "/compute/v1/images", {
      folderId: "grpc-cancel",
      uri: `${files.url}/slow/slow.qcow2`,
    });
    assert.equal(stalled.status, 200, stalled.text);
    const viaGrpc = await operations.get(
      operationService.GetOperationRequest.fromPartial({ operationId: stalled.body.id }),
    );
    assert.equal(viaGrpc.id, stalled.body.id);
    assert.equal(viaGrpc.done, false);
    const cancelled = await operations.cancel(
      operationService.CancelOperationRequest.fromPartial({ operationId: stalled.body.id }),
    );
    assert.equal(cancelled.id, stalled.body.id);
    const finished = await waitOperation(server, stalled.body.id);
    assert.equal(finished.error?.code, 1, "CANCELLED");

    const started = await compute.create(
      imageService.CreateImageRequest.fromPartial({
        folderId: "grpc-cancel",
        uri: files.serve("x.qcow2", image("qcow2", 4).path),
      }),
    );
    const overRest = await waitOperation(server, started.id);
    assert.equal(overRest.done, true);
    assert.equal(
      overRest.metadata.imageId,
      computeImage.Image.decode((await wait(started)).response!.value).id,
    );
  });

  test("errors reach the SDK as ApiError with the dialect's code, the message and the request and trace ids", async () => {
    const err = await compute
      .create(
        imageService.CreateImageRequest.fromPartial({
          folderId: "grpc-folder",
          name: "Not A Name",
          uri: "http://x",
        }),
      )
      .then(
        () => null,
        (e: unknown) => e as Error & { requestId?: string; serverTraceId?: string },
      );
    assert.ok(err);
    assert.equal(err.name, "ApiError");
    assert.match(err.message, /INVALID_ARGUMENT: Request validation error: name/);
    assert.match(err.requestId ?? "", /^[0-9a-f-]{36}$/);
    assert.match(err.serverTraceId ?? "", /^[0-9a-f-]{36}$/);
    const failed = await wait(
      await compute.create(
        imageService.CreateImageRequest.fromPartial({
          folderId: "grpc-folder",
          uri: `${files.url}/status/404`,
        }),
      ),
    ).then(
      () => null,
      (op: Operation) => op,
    );
    assert.ok(failed?.error, "the operation's error reaches waitForOperation");
    assert.notEqual(failed.error.code, 0);
  });
});

function sessionRootCert(server: RunningServer): Buffer {
  return fs.readFileSync(server.env.VITRINE_TLS_CERT!);
}
