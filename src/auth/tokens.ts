import { createHash, randomBytes } from "node:crypto";

/** API tokens: 32 random bytes, shown once; only their SHA-256 is stored. */
export function newToken(): string {
  return `vt1.${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
