import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { Readable } from "node:stream";
import { type ApiResponse, CLI, type RunningServer, apiRequest } from "./server.js";

/** An OpenStack-style request: the token goes in X-Auth-Token, as OpenStack clients send it. */
export function osRequest(
  server: RunningServer,
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
  token: string | null = server.token,
): Promise<ApiResponse> {
  // Glance answers errors in JSON only to clients that ask for it.
  const h: Record<string, string> = { accept: "application/json", ...headers, authorization: "" };
  if (token !== null) h["x-auth-token"] = token;
  return apiRequest(server.url, null, method, urlPath, body, stripEmpty(h));
}

function stripEmpty(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ""));
}

export const PATCH_TYPE = { "content-type": "application/openstack-images-v2.1-json-patch" };

/** Runs an admin CLI command against the server's data directory (or catalog) and returns its output. */
export function vitrineCli(server: RunningServer, ...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args, "--data-dir", server.dataDir], {
    encoding: "utf8",
    env: { ...process.env, ...server.env },
  }).trim();
}

/** A new subject with `role` on `project` and a token scoped to it. */
export function projectToken(server: RunningServer, project: string, role = "editor"): string {
  const subject = vitrineCli(server, "subject", "create", "--name", `user-of-${project}`);
  vitrineCli(server, "folder", "bind", "--folder", project, "--subject", subject, "--role", role);
  return vitrineCli(server, "token", "create", "--subject", subject, "--project", project);
}

/** Streams a file (or bytes) to an image's data endpoint. */
export async function putData(
  server: RunningServer,
  imageId: string,
  data: string | Buffer,
  opts: { endpoint?: "file" | "stage"; token?: string; contentType?: string } = {},
): Promise<ApiResponse> {
  const body =
    typeof data === "string" ? (Readable.toWeb(fs.createReadStream(data)) as ReadableStream) : data;
  const res = await fetch(`${server.url}/v2/images/${imageId}/${opts.endpoint ?? "file"}`, {
    method: "PUT",
    headers: {
      accept: "application/json",
      "x-auth-token": opts.token ?? server.token,
      "content-type": opts.contentType ?? "application/octet-stream",
    },
    body,
    duplex: "half",
  } as RequestInit);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Creates an image through the OpenStack API and returns its body (asserting 201). */
export async function createOsImage(
  server: RunningServer,
  fields: Record<string, unknown>,
  token: string = server.token,
): Promise<any> {
  const res = await osRequest(server, "POST", "/v2/images", fields, {}, token);
  if (res.status !== 201) throw new Error(`create image: ${res.status} ${res.text}`);
  return res.body;
}
