import { Type, type Static } from "@sinclair/typebox";

/**
 * Request shapes of the Compute Image API v1 (types only; the documented field rules are checked
 * in rules.ts so that violations read like the API reference). Unknown fields are refused, as
 * protojson does.
 */
const Int64 = Type.Union([Type.String(), Type.Integer()]);
const Labels = Type.Record(Type.String(), Type.String());
const Enum = Type.Union([Type.String(), Type.Integer()]);

const HardwareGeneration = Type.Object(
  {
    legacyFeatures: Type.Optional(
      Type.Object({ pciTopology: Type.Optional(Enum) }, { additionalProperties: false }),
    ),
    generation2Features: Type.Optional(Type.Object({}, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const CreateImageBody = Type.Object(
  {
    folderId: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    labels: Type.Optional(Labels),
    family: Type.Optional(Type.String()),
    minDiskSize: Type.Optional(Int64),
    productIds: Type.Optional(Type.Array(Type.String())),
    os: Type.Optional(Type.Object({ type: Type.Optional(Enum) }, { additionalProperties: false })),
    pooled: Type.Optional(Type.Boolean()),
    hardwareGeneration: Type.Optional(HardwareGeneration),
    imageId: Type.Optional(Type.String()),
    diskId: Type.Optional(Type.String()),
    snapshotId: Type.Optional(Type.String()),
    uri: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type CreateImageBody = Static<typeof CreateImageBody>;

export const UpdateImageBody = Type.Object(
  {
    updateMask: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    minDiskSize: Type.Optional(Int64),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type UpdateImageBody = Static<typeof UpdateImageBody>;

export const ImageRefParams = Type.Object({ imageRef: Type.String() });

export const LatestByFamilyQuery = Type.Object({
  folderId: Type.Optional(Type.String()),
  folder_id: Type.Optional(Type.String()),
  family: Type.Optional(Type.String()),
});
export type LatestByFamilyQuery = Static<typeof LatestByFamilyQuery>;
