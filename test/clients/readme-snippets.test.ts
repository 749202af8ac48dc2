import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { CLI, type RunningServer, startServer, tempDir } from "../helpers/server.js";

const run = promisify(execFile);
const README = fs.readFileSync(path.join(process.cwd(), "README.md"), "utf8");

/**
 * Runs `script` in bash and answers when bash exits: the walk-through's file server, started in
 * the background as a reader starts it, keeps a copy of the pipes, so waiting for them to close
 * would wait for it.
 */
function bashScript(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill(), 300_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      // What bash wrote before it exited is in the pipes: let it be read.
      setTimeout(() => resolve({ code, stdout, stderr }), 200);
    });
  });
}

/** The README's `sh` blocks, in order, with the heading they stand under. */
function shellBlocks(): { heading: string; code: string }[] {
  const blocks: { heading: string; code: string }[] = [];
  let heading = "";
  const lines = README.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith("#")) heading = lines[i]!.replace(/^#+\s*/, "");
    if (lines[i] === "```sh") {
      const start = ++i;
      while (lines[i] !== "```") i++;
      blocks.push({ heading, code: lines.slice(start, i).join("\n") });
    }
  }
  return blocks;
}

/**
 * The README's walk-throughs run as written, one after the other as a reader types them into one
 * shell, beside a running service: curl with the Compute and BareMetal APIs, the openstack and
 * glance CLIs, the vitrine CLI and the admin commands. The only changes are where things are: the
 * service's port (the test's server listens on a free one) and `npx vitrine` resolving to this
 * checkout's CLI. Blocks that name other machines (production, Keystone) are templates and are
 * not run.
 */
describe("the README's snippets run as written", () => {
  let server: RunningServer;
  let cwd: string;
  before(async () => {
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    cwd = tempDir("readme");
    fs.symlinkSync(server.dataDir, path.join(cwd, "vitrine-data"));
  });
  after(async () => {
    // The walk-through's file server runs in the background, as it does for a reader.
    await run("pkill", ["-f", "http.server 8000"]).catch(() => undefined);
    await server?.stop();
  });

  const RUN = [
    "Walk-through: the Compute Image API with curl",
    "Walk-through: the BareMetal Image API with curl",
    "The OpenStack Image API v2 (Glance-compatible)",
    "The vitrine CLI",
    "Identity and access: subjects, tokens, roles, bindings, Keystone",
    "Quotas",
    "Lifecycle",
    "Conversion and export",
    "Resumable transfers",
    "Events and audit",
  ];

  test("the walk-throughs, the client snippets and the admin commands", async () => {
    // A block that names another machine (keystone:5000, db.internal) is a template for there.
    const blocks = shellBlocks().filter(
      (b) => RUN.includes(b.heading) && !/https?:\/\/(?!127\.0\.0\.1)[a-z]/.test(b.code),
    );
    assert.deepEqual(
      [...new Set(blocks.map((b) => b.heading))],
      RUN,
      "every walk-through is found under its heading",
    );
    const { host } = new URL(server.url);
    const script = [
      "set -euo pipefail",
      // `npx vitrine` in the reader's clone is this checkout's CLI.
      `npx() { if [ "$1" = vitrine ]; then shift; node ${CLI} "$@"; else command npx "$@"; fi; }`,
      ...blocks.map((b) => b.code.replaceAll("127.0.0.1:9292", host)),
    ].join("\n");
    const { code, stdout, stderr } = await bashScript(script, cwd, {
      ...process.env,
      XDG_CONFIG_HOME: path.join(cwd, "config"),
    });
    assert.equal(code, 0, `the README's snippets failed (exit ${code}):\n${stderr}\n${stdout.slice(-4000)}`);
    // What a reader sees: the Compute operation's Image READY, the ISO's MD5, the clients' output.
    assert.match(stdout, /"status":"READY"/);
    // The only error is the one the walk-through shows on purpose: its deleted image is gone (404).
    const errors = [...stdout.matchAll(/\{"code":(\d+),"message":"([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0]!, /^5 Image \S+ not found$/);
    assert.match(stdout, /my-image/, "openstack image list shows the image");
    assert.ok(fs.existsSync(path.join(cwd, "copy.qcow2")), "openstack image save wrote the file");
    assert.ok(fs.existsSync(path.join(cwd, "web2.qcow2")), "vitrine image download wrote the file");
  });
});
