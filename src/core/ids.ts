import { randomBytes, randomUUID } from "node:crypto";

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const ALPHANUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A Yandex-style resource id: 20 characters, `[a-z][a-z0-9]{19}` — the BareMetal API requires
 * exactly that shape, and Compute ids look the same. 19 base-36 characters carry ~98 bits of
 * randomness, plenty to never collide (the database enforces uniqueness anyway).
 */
export function newResourceId(): string {
  const bytes = randomBytes(20);
  let id = LETTERS[bytes[0]! % LETTERS.length]!;
  for (let i = 1; i < 20; i++) id += ALPHANUM[bytes[i]! % ALPHANUM.length]!;
  return id;
}

/** The OpenStack dialect's image id. */
export const newUuid = (): string => randomUUID();

const RESOURCE_ID = /^[a-z][a-z0-9]{19}$/;

/** Whether `id` has a Yandex-style resource id's shape (see newResourceId). */
export const looksLikeResourceId = (id: string): boolean => RESOURCE_ID.test(id);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` has an OpenStack UUID's shape (no Yandex-style id has: those have no dashes). */
export const looksLikeUuid = (id: string): boolean => UUID.test(id);
