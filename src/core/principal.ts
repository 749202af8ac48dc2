/** Who is calling: resolved from a token by auth/, consumed by core/access.ts. */
export interface Principal {
  subjectId: string;
  subjectType: "userAccount" | "serviceAccount" | "system";
  isAdmin: boolean;
}
