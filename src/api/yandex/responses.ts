import { type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";

/**
 * The documents the Yandex-style services answer, in proto3 JSON as TypeBox shapes: what REST
 * declares per route and gRPC per method (RESPONSES, checked against proto/ by
 * test/unit/response-shapes.test.ts). Every field is optional, as in proto3 JSON, where a default
 * value is left out; no field beyond the message's is allowed.
 */

/** A message: its fields by JSON name, all optional, nothing else. */
export function message<P extends TProperties>(fields: P): TObject {
  const optional: TProperties = {};
  for (const [name, schema] of Object.entries(fields)) optional[name] = Type.Optional(schema);
  return Type.Object(optional, { additionalProperties: false });
}

/** int64 and uint64 are strings in proto3 JSON. */
export const Int64 = Type.String({ pattern: "^-?[0-9]+$" });
/** google.protobuf.Timestamp: RFC 3339 in UTC. */
export const Timestamp = Type.String({ pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$" });
export const Labels = Type.Record(Type.String(), Type.String());
/** An enum by value name. */
export const Enum = (...names: string[]) => Type.Union(names.map((n) => Type.Literal(n)));

/** google.protobuf.Any holding a message of the named type. */
export function any(typeName: string, fields: TObject): TObject {
  return Type.Object(
    { "@type": Type.Literal(`type.googleapis.com/${typeName}`), ...fields.properties },
    { additionalProperties: false },
  );
}

/** One of the named messages as google.protobuf.Any. */
export const anyOf = (...members: TObject[]): TSchema => Type.Union(members);

const Subject = message({ id: Type.String(), type: Type.String() });
export const AccessBinding = message({ roleId: Type.String(), subject: Subject });
const AccessBindingDelta = message({ action: Enum("ADD", "REMOVE"), accessBinding: AccessBinding });

export const ListAccessBindingsResponse = message({
  accessBindings: Type.Array(AccessBinding),
  nextPageToken: Type.String(),
});

const BadRequest = message({
  fieldViolations: Type.Array(
    message({ field: Type.String(), description: Type.String(), reason: Type.String() }),
  ),
});
const RequestInfo = message({ requestId: Type.String(), servingData: Type.String() });
const QuotaFailure = message({
  violations: Type.Array(message({ subject: Type.String(), description: Type.String() })),
});
const Status = message({
  code: Type.Integer(),
  message: Type.String(),
  details: Type.Array(
    anyOf(
      any("google.rpc.BadRequest", BadRequest),
      any("google.rpc.RequestInfo", RequestInfo),
      any("google.rpc.QuotaFailure", QuotaFailure),
    ),
  ),
});

/** The image services whose images an operation may carry, by proto package. */
export interface ImageMessages {
  pkg: string;
  image: TObject;
}

/**
 * yandex.cloud.operation.Operation: metadata and response are the image services' messages
 * (the Operation service answers for every kind, so it names them all).
 */
export function operationOf(services: ImageMessages[]): TObject {
  const imageId = message({ imageId: Type.String() });
  const resourceId = message({ resourceId: Type.String() });
  const metadata = [
    ...services.flatMap(({ pkg }) =>
      ["CreateImageMetadata", "UpdateImageMetadata", "DeleteImageMetadata"].map((t) =>
        any(`${pkg}.${t}`, imageId),
      ),
    ),
    // Vitrine's lifecycle operations (README "Lifecycle"): Compute images only.
    ...["DeprecateImageMetadata", "RestoreImageMetadata", "PurgeImageMetadata"].map((t) =>
      any(`yandex.cloud.compute.v1.${t}`, imageId),
    ),
    any("yandex.cloud.access.SetAccessBindingsMetadata", resourceId),
    any("yandex.cloud.access.UpdateAccessBindingsMetadata", resourceId),
  ];
  const responses = [
    ...services.map(({ pkg, image }) => any(`${pkg}.Image`, image)),
    any(
      "yandex.cloud.access.AccessBindingsOperationResult",
      message({ effectiveDeltas: Type.Array(AccessBindingDelta) }),
    ),
    // google.protobuf.Empty, in the form grpc-gateway writes it.
    any("google.protobuf.Empty", message({ value: message({}) })),
  ];
  return message({
    id: Type.String(),
    description: Type.String(),
    createdAt: Timestamp,
    createdBy: Type.String(),
    modifiedAt: Timestamp,
    done: Type.Boolean(),
    metadata: anyOf(...metadata),
    error: Status,
    response: anyOf(...responses),
    progress: message({ bytesDone: Int64, bytesTotal: Int64, stage: Type.Optional(Type.String()) }),
    scheduledFor: Timestamp,
  });
}

/** A page of a list: the items under their field, and the token of the next page. */
export const pageOf = (field: string, item: TSchema): TObject =>
  message({ [field]: Type.Array(item), nextPageToken: Type.String() });

/** yandex.cloud.compute.v1.Image */
export const ComputeImage = message({
  id: Type.String(),
  folderId: Type.String(),
  createdAt: Timestamp,
  name: Type.String(),
  description: Type.String(),
  labels: Labels,
  family: Type.String(),
  storageSize: Int64,
  minDiskSize: Int64,
  productIds: Type.Array(Type.String()),
  status: Enum("CREATING", "READY", "ERROR", "DELETING"),
  os: message({ type: Enum("LINUX", "WINDOWS"), nvidia: message({ driver: Type.String() }) }),
  pooled: Type.Boolean(),
  hardwareGeneration: message({
    legacyFeatures: message({ pciTopology: Enum("PCI_TOPOLOGY_V1", "PCI_TOPOLOGY_V2") }),
    generation2Features: message({ secureBootTemplateId: Type.String(), vtpmEnabled: Type.Boolean() }),
  }),
  kmsKey: message({ keyId: Type.String(), versionId: Type.String() }),
  size: Int64,
  deprecated: message({
    state: Enum("ACTIVE", "DEPRECATED", "OBSOLETE"),
    replacement: Type.String(),
    deprecateAt: Timestamp,
    obsoleteAt: Timestamp,
    deleteAt: Timestamp,
  }),
  lastUsedAt: Timestamp,
  useCount: Int64,
});

/** yandex.cloud.baremetal.v1alpha.Image */
export const BareMetalImage = message({
  id: Type.String(),
  folderId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  checksum: Type.String(),
  status: Enum("CREATING", "READY", "ERROR", "DELETING", "UPDATING"),
  createdAt: Timestamp,
  labels: Labels,
});

export const Operation = operationOf([
  { pkg: "yandex.cloud.compute.v1", image: ComputeImage },
  { pkg: "yandex.cloud.baremetal.v1alpha", image: BareMetalImage },
]);

/** What each RPC answers, by service: the gRPC methods and the REST routes both declare these. */
export const RESPONSES = {
  "yandex.cloud.compute.v1.ImageService": {
    Get: ComputeImage,
    GetLatestByFamily: ComputeImage,
    List: pageOf("images", ComputeImage),
    Create: Operation,
    Update: Operation,
    Delete: Operation,
    ListOperations: pageOf("operations", Operation),
    ListAccessBindings: ListAccessBindingsResponse,
    SetAccessBindings: Operation,
    UpdateAccessBindings: Operation,
    Deprecate: Operation,
    Export: Operation,
  },
  "yandex.cloud.baremetal.v1alpha.ImageService": {
    Get: BareMetalImage,
    List: pageOf("images", BareMetalImage),
    Create: Operation,
    Update: Operation,
    Delete: Operation,
    ListOperations: pageOf("operations", Operation),
  },
  "yandex.cloud.operation.OperationService": { Get: Operation, Cancel: Operation },
} satisfies Record<string, Record<string, TSchema>>;
