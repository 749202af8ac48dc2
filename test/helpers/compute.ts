import assert from "node:assert/strict";
import { type RunningServer, waitOperation } from "./server.js";

/** Creates a Compute image through the API and waits until the operation ends; returns the Image. */
export async function createReadyImage(server: RunningServer, body: Record<string, unknown>): Promise<any> {
  const res = await server.request("POST", "/compute/v1/images", body);
  assert.equal(res.status, 200, res.text);
  const done = await waitOperation(server, res.body.id);
  assert.ok(done.response, `create failed: ${JSON.stringify(done.error)}`);
  return done.response;
}
