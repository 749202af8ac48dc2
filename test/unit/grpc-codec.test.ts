import assert from "node:assert/strict";
import { test } from "node:test";
import { codecFor } from "../../src/api/grpc/codec.js";
import { timestamp } from "../../src/api/yandex/json.js";

test("timestamps cross the wire and come back exactly as REST renders them (protojson's 0/3/6/9 digits)", () => {
  const image = codecFor("yandex.cloud.compute.v1.Image");
  for (const ms of [
    Date.UTC(2026, 11, 1, 17, 50, 28, 310),
    Date.UTC(2026, 11, 1),
    Date.UTC(2026, 0, 1, 0, 0, 0, 1),
    1,
  ]) {
    const rest = timestamp(ms);
    assert.equal(image.decode(image.encode({ createdAt: rest })).createdAt, rest);
  }
  assert.equal(
    image.decode(image.encode({ createdAt: "2026-12-01T00:00:00.123456Z" })).createdAt,
    "2026-12-01T00:00:00.123456Z",
  );
});

test("field masks read as protojson's camelCase string, whatever case the client sent", () => {
  const update = codecFor("yandex.cloud.compute.v1.UpdateImageRequest");
  assert.equal(
    update.decode(update.encode({ updateMask: { paths: ["min_disk_size", "labels"] } })).updateMask,
    "minDiskSize,labels",
  );
  assert.equal(
    update.decode(update.encode({ updateMask: "name,description" })).updateMask,
    "name,description",
  );
});

test("an Operation's Any fields carry the type REST names, and Delete's Empty", () => {
  const operation = codecFor("yandex.cloud.operation.Operation");
  const doc = {
    id: "op",
    metadata: { "@type": "type.googleapis.com/yandex.cloud.compute.v1.DeleteImageMetadata", imageId: "i" },
    response: { "@type": "type.googleapis.com/google.protobuf.Empty", value: {} },
  };
  assert.deepEqual(operation.decode(operation.encode(doc)), {
    id: "op",
    metadata: { "@type": "type.googleapis.com/yandex.cloud.compute.v1.DeleteImageMetadata", imageId: "i" },
    response: { "@type": "type.googleapis.com/google.protobuf.Empty" },
  });
});
