import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type InProcessHttp, osImage, startInProcessHttp } from "../helpers/in-process.js";
import { Target, until } from "../helpers/webhook-target.js";

/**
 * A webhook target down for a minute (README "Events and audit"). The test mostly waits, so
 * scripts/test.sh runs it beside the rest of the suite rather than in one of its two slots.
 */
describe("events: a webhook target down for a minute", () => {
  let env: InProcessHttp;

  before(async () => {
    env = await startInProcessHttp({
      VITRINE_WEBHOOK_RETRY_BASE_MS: "250",
      VITRINE_WEBHOOK_RETRY_MAX_MS: "4000",
      VITRINE_WEBHOOK_MAX_ATTEMPTS: "40",
    });
  });
  after(() => env.close());

  test("a target down for a minute gets every event once it is back, in order", async (t) => {
    const target = await new Target().listen();
    // Closed even when an assertion fails: a listening target would keep the file running.
    t.after(() => target.close());
    const port = target.port;
    const folder = "down-project";
    const owner = await env.token("down-admin", folder, "admin");
    const sub = (
      await env.call(owner, "POST", "/vitrine/v1/webhooks", { folderId: folder, url: target.url })
    ).json();
    await target.down();
    const downAt = Date.now();
    const uuid = await osImage(env, owner, "while-down", "qcow2");
    for (const tag of ["a", "b", "c"]) {
      assert.equal((await env.call(owner, "PUT", `/v2/images/${uuid}/tags/${tag}`)).statusCode, 204);
    }
    // Retried with backoff meanwhile: the delivery shows its attempts and the error.
    const pending = await until(
      async () =>
        (await env.call(owner, "GET", `/vitrine/v1/webhooks/${sub.id}/deliveries?status=pending`)).json(),
      (p) => p.deliveries.some((d: { attempts: number }) => d.attempts >= 2),
      "retries",
    );
    assert.match(pending.deliveries.at(-1).lastError, /ECONNREFUSED/);
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - downAt))));
    await target.listen(port);
    // Image events only: the folder's other events (the admin's binding, published after the
    // subscription was made) go to it too.
    const imageEvents = () => target.events().filter((e) => e.data.image);
    const ofImage = await until(imageEvents, (e) => e.length >= 4, "deliveries after the outage", 30_000);
    assert.deepEqual(
      ofImage.map((e) => e.type),
      ["image.create", "image.update", "image.update", "image.update"].map((t) => `dev.vitrine.${t}`),
    );
    assert.deepEqual(
      ofImage.map((e) => e.data.image.version),
      [1, 2, 3, 4],
    );
    assert.deepEqual(ofImage.at(-1)!.data.image.tags, ["a", "b", "c"]);
    await target.close();
  });
});
