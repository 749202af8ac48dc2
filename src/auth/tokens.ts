import { createHash, randomBytes } from "node:crypto";

const PREFIX = "vt1.";

/** API tokens: 32 random bytes, shown once; only their SHA-256 is stored. */
export function newToken(): string {
  return `${PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** Whether a token is one this service issued (others, in Keystone mode, are Keystone's). */
export function isLocalToken(token: string): boolean {
  return token.startsWith(PREFIX);
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
