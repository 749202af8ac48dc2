import definitions from "./standard-definitions.json" with { type: "json" };

/** A namespace as the standard definitions write it (the API's own document shape). */
export interface StandardNamespace {
  namespace: string;
  display_name: string;
  description: string;
  resource_type_associations: { name: string; prefix?: string; properties_target?: string }[];
  properties?: Record<string, Record<string, unknown>>;
  objects?: ({ name: string } & Record<string, unknown>)[];
}

/**
 * The definitions a new catalog starts with (loaded once, by the migration that creates the
 * tables): the image, volume and flavor properties Nova reads, written as data in our words, and
 * the dialect's own extension fields. (JSON imports are typed by inference, which cannot express
 * the maps of property documents; the shape is checked when the migration loads it in tests.)
 */
export const STANDARD_METADEFS = definitions as unknown as {
  resourceTypes: string[];
  namespaces: StandardNamespace[];
};
