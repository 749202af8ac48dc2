import { Type, type Static } from "@sinclair/typebox";

/** Request shapes of the BareMetal Image API v1alpha (types only; rules.ts checks the field rules). */
const Labels = Type.Record(Type.String(), Type.String());

export const CreateImageBody = Type.Object(
  {
    folderId: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    uri: Type.Optional(Type.String()),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type CreateImageBody = Static<typeof CreateImageBody>;

export const UpdateImageBody = Type.Object(
  {
    updateMask: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type UpdateImageBody = Static<typeof UpdateImageBody>;

export const ImageIdParams = Type.Object({ imageId: Type.String() });
