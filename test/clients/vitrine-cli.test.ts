import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import YAML from "yaml";
import { type FileServer, startFileServer } from "../helpers/file-server.js";
import { image, iso } from "../helpers/fixtures.js";
import { qcow2Corrupt } from "../helpers/hostile.js";
import { startSlowProxy } from "../helpers/net.js";
import { CLI, type RunningServer, apiRequest, startServer, tempDir } from "../helpers/server.js";

type Json = Record<string, any>;
interface Result {
  status: number | null;
  stdout: string;
  bytes: Buffer;
  stderr: string;
}

/**
 * The `vitrine` client CLI driven as a subprocess, as a person or a script runs it: every image
 * and operation command with JSON output parsed, profiles, exit codes, errors in one line, and
 * on a pseudo-terminal (util-linux `script`) the progress bars and the Ctrl-C prompt.
 */
describe("real client: the vitrine CLI", async () => {
  let server: RunningServer;
  let files: FileServer;
  /** Trickles its files (16 KiB every 100 ms): an import that stays in progress for seconds. */
  let slowFiles: FileServer;
  let home: string;
  const folder = "cli-folder";

  /**
   * Runs the CLI with the test's config directory; settings come from the profile unless `env`
   * says. Asynchronously: the file server the imports read from lives in this process.
   */
  const run = (args: string[], env: Record<string, string> = {}): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, XDG_CONFIG_HOME: home, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => {
        const bytes = Buffer.concat(out);
        resolve({ status, stdout: bytes.toString("utf8"), bytes, stderr });
      });
    });
  const ok = async (args: string[], env?: Record<string, string>): Promise<Json> => {
    const r = await run(args, env);
    assert.equal(r.status, 0, `vitrine ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim() === "" ? {} : (JSON.parse(r.stdout) as Json);
  };

  /** The command on a pseudo-terminal; each step types its keys once the output matches `when`. */
  const onTerminal = (
    args: string[],
    steps: { when: RegExp; type: string }[] = [],
  ): Promise<{ output: string; status: number | null }> =>
    new Promise((resolve) => {
      const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      // -e: script exits with the command's status; -f: flush as it goes. `exec`: the CLI replaces
      // the shell script starts ($SHELL, or dash): a shell left waiting would get the Ctrl-C too
      // and, being dash, exit 130 after the CLI ended well.
      const child = spawn("script", ["-qefc", `exec ${command}`, "/dev/null"], {
        env: { ...process.env, XDG_CONFIG_HOME: home, COLUMNS: "120", LINES: "40", TERM: "xterm" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let output = "";
      const pending = [...steps];
      const onData = (d: Buffer) => {
        output += d.toString();
        while (pending[0]?.when.test(output)) child.stdin.write(pending.shift()!.type);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("close", (status) => resolve({ output, status }));
    });

  before(async () => {
    home = tempDir("cli-home");
    files = await startFileServer();
    slowFiles = await startFileServer();
    server = await startServer({ env: { VITRINE_IMPORT_ALLOWED_HOSTS: "127.0.0.1" } });
    await ok(["config", "profile", "create", "local"]);
    await ok(["config", "set", "endpoint", server.url]);
    await ok(["config", "set", "token", server.token]);
    await ok(["config", "set", "folder-id", folder]);
  });

  after(async () => {
    await server?.stop();
    await files?.close();
    await slowFiles?.close();
  });

  test("profiles live in the user's config directory, private, and flags and VITRINE_* override them", async () => {
    const file = path.join(home, "vitrine", "config.json");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const listed = (await ok(["config", "profile", "list", "--format", "json"])) as unknown as Json[];
    const local = listed.find((p) => p.name === "local")!;
    assert.equal(local.current, true);
    assert.equal(local.endpoint, server.url);
    assert.ok(!JSON.stringify(listed).includes(server.token), "the token is never printed whole");
    assert.equal((await ok(["config", "list", "--format", "json"]))["folder-id"], folder);
    assert.equal(
      (await ok(["config", "list", "--format", "json"], { VITRINE_FOLDER_ID: "from-env" }))["folder-id"],
      "from-env",
    );
    await ok(["config", "profile", "create", "other"]);
    assert.equal((await ok(["config", "list", "--format", "json"])).endpoint, "http://127.0.0.1:9292");
    await ok(["config", "profile", "use", "local"]);
    await ok(["config", "profile", "delete", "other"]);
    assert.equal((await run(["config", "profile", "use", "nope"])).status, 2);
  });

  test("create from a laptop file: uploaded, inspected, a READY Compute image with the yc-style fields", async () => {
    const qcow2 = image("qcow2", 8);
    const created = await ok([
      "image",
      "create",
      "--file",
      qcow2.path,
      "--name",
      "from-file",
      "--family",
      "cli-fam",
      "--labels",
      "env=test,team=img",
      "--description",
      "made by the CLI",
      "--min-disk-size",
      "10G",
    ]);
    assert.equal(created.status, "READY");
    assert.equal(created.name, "from-file");
    assert.equal(created.family, "cli-fam");
    assert.deepEqual(created.labels, { env: "test", team: "img" });
    assert.equal(created.minDiskSize, String(10 * 1024 ** 3));
    assert.equal(created.storageSize, String(qcow2.size));
    assert.equal(created.folderId, folder);
    // The same bytes through the OpenStack dialect, found by the Compute id; the helper image is gone.
    const os = await ok(["image", "get", created.id]);
    assert.equal(os.id, created.id);
    const glanceImage = (await server.request("GET", `/v2/images/${created.id}`)).body as Json;
    assert.equal(glanceImage.checksum, qcow2.md5);
    assert.equal(glanceImage.os_hash_value, qcow2.sha512);
    const hidden = (await server.request("GET", "/v2/images?os_hidden=true")).body as Json;
    assert.deepEqual(hidden.images, [], "no hidden upload image is left behind");
  });

  test("get by id, OpenStack UUID or name; list with a limit; update; share; download; delete", async () => {
    const qcow2 = image("qcow2", 8);
    const byName = await ok(["image", "get", "from-file"]);
    const uuid = ((await server.request("GET", `/v2/images/${byName.id}`)).body as Json).id as string;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.equal((await ok(["image", "get", uuid])).id, byName.id);
    assert.equal((await ok(["image", "get", byName.id])).name, "from-file");

    const copy = await ok(["image", "create", "--source-image", "from-file", "--name", "copy-of-file"]);
    assert.equal(copy.status, "READY");
    assert.equal(copy.storageSize, String(qcow2.size));
    const listed = (await ok(["image", "list"])) as unknown as Json[];
    assert.deepEqual(listed.map((i) => i.name).sort(), ["copy-of-file", "from-file"]);
    assert.equal(((await ok(["image", "list", "--limit", "1"])) as unknown as Json[]).length, 1);
    const filtered = (await ok(["image", "list", "--filter", 'name="copy-of-file"'])) as unknown as Json[];
    assert.deepEqual(
      filtered.map((i) => i.id),
      [copy.id],
    );

    const updated = await ok([
      "image",
      "update",
      "copy-of-file",
      "--new-name",
      "renamed",
      "--labels",
      "a=1",
      "--min-disk-size",
      "20GiB",
    ]);
    assert.equal(updated.name, "renamed");
    assert.deepEqual(updated.labels, { a: "1" });
    assert.equal(updated.minDiskSize, String(20 * 1024 ** 3));

    await ok(["image", "share", "renamed", "--subject", "system:allUsers", "--role", "viewer"]);
    const bindings = (await ok(["image", "list-access-bindings", "renamed"])) as unknown as Json[];
    assert.deepEqual(bindings, [{ roleId: "viewer", subject: { id: "allUsers", type: "system" } }]);
    // Anyone reads it now: the Compute API without a token.
    const anonymous = await apiRequest(server.url, null, "GET", `/compute/v1/images/${copy.id}`);
    assert.equal((anonymous.body as Json).name, "renamed");
    await ok(["image", "share", "renamed", "--subject", "system:allUsers", "--role", "viewer", "--remove"]);
    assert.deepEqual(await ok(["image", "list-access-bindings", "renamed"]), []);

    const out = path.join(tempDir("cli-download"), "disk.qcow2");
    const download = await run(["image", "download", "renamed", "--output", out]);
    assert.equal(download.status, 0, download.stderr);
    assert.equal(createHash("md5").update(fs.readFileSync(out)).digest("hex"), qcow2.md5);
    assert.match(download.stderr, new RegExp(`md5 ${qcow2.md5}`));
    // Piped: the bytes go to stdout.
    const piped = await run(["image", "download", copy.id]);
    assert.equal(piped.status, 0);
    assert.equal(createHash("md5").update(piped.bytes).digest("hex"), qcow2.md5);

    const ops = (await ok(["operation", "list", "--image", "renamed"])) as unknown as Json[];
    assert.deepEqual(
      ops.map((o) => o.description),
      ["Update access bindings", "Update access bindings", "Update image", "Create image"],
    );
    assert.equal((await ok(["operation", "get", ops[3]!.id])).done, true);

    await ok(["image", "delete", "renamed"]);
    const gone = await run(["image", "get", copy.id]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^vitrine: Image \S+ not found \(request id [0-9a-f-]{36}\)\n$/);
  });

  test("an import from a URL: --async returns the operation, operation wait follows it to the image", async () => {
    const qcow2 = image("qcow2", 8);
    const uri = files.serve("cli.qcow2", qcow2.path);
    const op = await ok(["image", "create", "--source-uri", uri, "--name", "imported", "--async"]);
    assert.ok(op.id);
    assert.equal(op.metadata.imageId.length, 20);
    const done = await ok(["operation", "wait", op.id]);
    assert.equal(done.done, true);
    assert.equal(done.response.status, "READY");
    assert.equal(done.response.storageSize, String(qcow2.size));
    // The server recorded how far the import got (Vitrine's extension of Operation).
    assert.deepEqual(done.progress, { bytesDone: String(qcow2.size), bytesTotal: String(qcow2.size) });
  });

  test("operation cancel stops a running import; waiting for it then exits 3", async () => {
    const slow = image("qcow2", 16);
    const uri = slowFiles.serve("to-cancel-cmd.qcow2", slow.path).replace("/files/", "/slow/");
    const op = await ok(["image", "create", "--source-uri", uri, "--name", "cancel-cmd", "--async"]);
    const cancelled = await ok(["operation", "cancel", op.id]);
    assert.equal(cancelled.id, op.id);
    const waited = await run(["operation", "wait", op.id]);
    assert.equal(waited.status, 3, waited.stderr);
    assert.match(waited.stderr, /^vitrine: operation \S+ failed: The operation was cancelled\n$/);
    assert.equal((await run(["image", "get", "cancel-cmd"])).status, 1, "a cancelled create leaves nothing");
  });

  test("config unset removes a setting; the default comes back", async () => {
    await ok(["config", "set", "endpoint", "http://127.0.0.1:1", "--profile", "local"]);
    await ok(["config", "unset", "endpoint"]);
    assert.equal((await ok(["config", "list", "--format", "json"])).endpoint, "http://127.0.0.1:9292");
    await ok(["config", "set", "endpoint", server.url]);
    const yaml = await run(["config", "list", "--format", "yaml"]);
    assert.equal((YAML.parse(yaml.stdout) as Json).endpoint, server.url);
  });

  test("exit codes scripts rely on, and errors in one line", async () => {
    const usage = await run(["image", "create", "--name", "x"]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^vitrine: name exactly one source/);
    assert.equal((await run(["image", "frobnicate"])).status, 2);
    assert.equal((await run(["image", "create", "--file", "/nonexistent", "--name", "x"])).status, 2);

    const badToken = await run(["image", "list"], { VITRINE_TOKEN: "vt1.not-a-token" });
    assert.equal(badToken.status, 1);
    assert.match(
      badToken.stderr,
      /^vitrine: Token is invalid or has expired\. \(request id [0-9a-f-]{36}\)\n$/,
    );
    assert.ok(!badToken.stderr.includes("    at "), "no stack trace");

    const unreachable = await run(["image", "list"], { VITRINE_ENDPOINT: "http://127.0.0.1:9" });
    assert.equal(unreachable.status, 4);
    assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);

    const invalid = await run([
      "image",
      "create",
      "--source-uri",
      "http://127.0.0.1:1/x.qcow2",
      "--name",
      "Bad_Name",
    ]);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /name/);

    // The operation fails: exit 3, with the inspection rule that refused the image.
    const refused = await run(["image", "create", "--file", qcow2Corrupt(), "--name", "hostile"]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /qcow2: the image is marked corrupt/);
    const uri = files.serve("corrupt.qcow2", qcow2Corrupt());
    const failedOp = await run(["image", "create", "--source-uri", uri, "--name", "hostile-import"]);
    assert.equal(failedOp.status, 3, failedOp.stderr);
    assert.match(
      failedOp.stderr,
      /^vitrine: operation \S+ failed: uri: the image is refused: qcow2: the image is marked corrupt/,
    );
  });

  test("on a terminal: tables, progress bars for upload, download and a server-side import", async () => {
    const big = image("qcow2", 24);
    const upload = await onTerminal(["image", "create", "--file", big.path, "--name", "tty-upload"]);
    assert.equal(upload.status, 0, upload.output);
    assert.match(
      upload.output,
      /uploading \[[█░]+\] 100% [\d.]+ [KM]iB \/ [\d.]+ [KM]iB \| [\d.]+ [KMG]?i?B\/s/,
    );
    assert.match(upload.output, /│ status +│ READY +│/, "a two-column table of the image");

    const list = await onTerminal(["image", "list"]);
    assert.match(list.output, /│ ID +│ NAME +│ FAMILY +│ STATUS +│ SIZE +│/);
    assert.match(list.output, /│ tty-upload +│ +│ READY +│ [\d.]+ [KM]iB +│/);
    // Sizes for people in `get`, with the exact count beside.
    assert.match(upload.output, /│ storageSize +│ [\d.]+ MiB \(\d+\) +│/);

    const out = path.join(tempDir("cli-tty"), "big.qcow2");
    const download = await onTerminal(["image", "download", "tty-upload", "--output", out]);
    assert.equal(download.status, 0, download.output);
    assert.match(download.output, /downloading \[[█░]+\] 100%/);

    // A trickled import: the CLI shows the bytes the server has read, as the server reports them.
    const slow = image("qcow2", 8);
    const uri = slowFiles.serve("slow.qcow2", slow.path).replace("/files/", "/slow/");
    const imported = await onTerminal(["image", "create", "--source-uri", uri, "--name", "tty-import"]);
    assert.equal(imported.status, 0, imported.output);
    assert.match(imported.output, /importing \[[█░]+\] \d+% [\d.]+ [KM]?i?B \/ [\d.]+ [KM]iB/);
    // The bar ends full: the import read everything, whatever the last poll saw.
    assert.match(imported.output, /importing \[█+\] 100% /);

    // Piped, nothing but the JSON.
    const piped = await run(["image", "get", "tty-import"]);
    assert.doesNotThrow(() => JSON.parse(piped.stdout));
    assert.equal(piped.stderr, "");
  });

  test("Ctrl-C during create --file: one line, exit 130, nothing left behind (not even the hidden upload image)", async () => {
    // 32 MiB through a 2 MiB/s link: the upload is still going when Ctrl-C comes.
    const big = image("raw", 32);
    const proxy = await startSlowProxy(server.url, 2 * 1024 * 1024);
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const result = await onTerminal(
          ["image", "create", "--file", big.path, "--name", "interrupted-upload", "--endpoint", proxy.url],
          [{ when: /uploading \[[█░]+\] [1-9]/, type: "\x03" }],
        );
        assert.equal(result.status, 130, result.output);
        assert.match(result.output, /upload interrupted; nothing was created/);
        assert.doesNotMatch(result.output, /Error|\s+at .+:\d+:\d+/, "no stack trace");
      }
    } finally {
      await proxy.close();
    }
    // Nothing in the folder, hidden images included, through either dialect.
    const os = await server.request("GET", `/v2/images?owner=${folder}&os_hidden=true`);
    assert.deepEqual(
      os.body.images.filter((i: Json) => String(i.name).startsWith("vitrine-cli-upload")),
      [],
      "no hidden upload image is left",
    );
    const listed = (await ok(["image", "list", "--format", "json"])) as unknown as Json[];
    assert.ok(
      !listed.some((i) => String(i.name).startsWith("vitrine-cli-upload") || i.name === "interrupted-upload"),
    );
  });

  /** A trickled import on a terminal, Ctrl-C while it runs, then `answer` to the cancel question. */
  const interruptedImport = (name: string, mib: number, answer: string) => {
    const uri = slowFiles.serve(`${name}.qcow2`, image("qcow2", mib).path).replace("/files/", "/slow/");
    return onTerminal(
      ["image", "create", "--source-uri", uri, "--name", name],
      [
        { when: /importing \[/, type: "\x03" },
        { when: /Cancel operation \S+\? \[y\/N\]/, type: answer },
      ],
    );
  };

  test("keep waiting after Ctrl-C: the bar comes back with the real speed and ends full", async () => {
    const result = await interruptedImport("kept-waiting", 8, "n\r");
    assert.equal(
      result.status,
      0,
      `exit status ${result.status}; the output's end:\n${result.output.slice(-1500)}`,
    );
    const after = result.output.slice(result.output.search(/Cancel operation/));
    const speeds = [...after.matchAll(/\| ([\d.]+) (B|KiB|MiB|GiB)\/s/g)].map(
      ([, n, unit]) => Number(n) * 1024 ** ["B", "KiB", "MiB", "GiB"].indexOf(unit!),
    );
    assert.ok(speeds.length > 0, after);
    // The source trickles 160 KiB/s: a speed counted from 0 at the bar's return would be many MiB/s.
    for (const speed of speeds) assert.ok(speed < 1024 ** 2, `${speed} B/s after the prompt:\n${after}`);
    assert.match(after, /importing \[█+\] 100% /);
  });

  test("a second Ctrl-C at the cancel question leaves the operation running, and says so", async () => {
    const result = await interruptedImport("kept-running", 8, "\x03");
    assert.equal(result.status, 130, result.output);
    assert.match(
      result.output,
      /operation \S+ keeps running on the service; `vitrine operation cancel \S+` stops it/,
    );
    const id = /operation (\S+) keeps running/.exec(result.output)![1]!;
    const done = await ok(["operation", "wait", id]);
    assert.equal(done.response.name, "kept-running");
  });

  test("yc's habits: --id/--name, get-latest-by-family, delete of several, the folder's operations, YAML keys", async () => {
    const qcow2 = image("qcow2", 8);
    const uri = files.serve("habits.qcow2", qcow2.path);
    const older = await ok(["image", "create", "--source-uri", uri, "--name", "fam-1", "--family", "fam"]);
    const newer = await ok([
      "image",
      "create",
      "--source-image",
      "fam-1",
      "--name",
      "fam-2",
      "--family",
      "fam",
    ]);
    assert.equal((await ok(["image", "get", "--id", older.id])).name, "fam-1");
    assert.equal((await ok(["image", "get", "--name", "fam-2"])).id, newer.id);
    assert.equal((await run(["image", "get"])).status, 2, "an image must be named");
    assert.equal((await ok(["image", "get-latest-by-family", "fam"])).id, newer.id);
    assert.equal((await ok(["image", "get-latest-from-family", "--family", "fam"])).id, newer.id);

    const yaml = YAML.parse((await run(["image", "get", "fam-1", "--format", "yaml"])).stdout) as Json;
    assert.equal(yaml.folder_id, folder, "snake_case keys, as yc prints them");
    assert.equal(yaml.storage_size, String(qcow2.size));
    const text = await run(["image", "get", "fam-1", "--format", "text"]);
    assert.match(text.stdout, /│ storageSize +│ [\d.]+ MiB \(\d+\) +│/);

    // A list fits 80 columns even with long names (the widest cells are cut).
    await ok(["image", "update", "fam-2", "--new-name", `fam-2-${"x".repeat(55)}`]);
    const table = await run(["image", "list", "--format", "table"]);
    assert.equal(table.status, 0);
    for (const line of table.stdout.trimEnd().split("\n"))
      assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.match(table.stdout, /fam-2-x+…/);

    // Several at once; a delete prints no empty response table.
    const deleted = await run(["image", "delete", "fam-1", `fam-2-${"x".repeat(55)}`, "--format", "table"]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal(deleted.stdout, "");
    assert.match(deleted.stderr, /deleted fam-1 \(\w+\)\ndeleted fam-2-x+ \(\w+\)\n/);
    assert.equal((await run(["image", "get", older.id])).status, 1);
    // On a terminal too (its width, 80 columns in this pseudo-terminal).
    await ok(["image", "create", "--source-uri", uri, "--name", `long-${"y".repeat(58)}`]);
    const onTty = await onTerminal(["image", "list"]);
    const escapes = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");
    const lines = onTty.output
      .replace(escapes, "")
      .split(/\r?\n/)
      .filter((l) => l.includes("│"));
    assert.ok(lines.length >= 3, onTty.output);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    await ok(["image", "delete", `long-${"y".repeat(58)}`]);
    // A typo deletes nothing: every image is looked up first.
    const keep = await ok(["image", "create", "--source-uri", uri, "--name", "keep-me"]);
    assert.equal((await run(["image", "delete", "keep-me", "no-such-image"])).status, 1);
    assert.equal((await ok(["image", "get", keep.id])).name, "keep-me");

    const ops = (await ok(["operation", "list"])) as unknown as Json[];
    assert.ok(ops.length >= 5, "the folder's operations");
    assert.equal(ops[0]!.description, "Create image", "newest first");
    const opTable = await run(["operation", "list", "--format", "table"]);
    assert.match(
      opTable.stdout,
      /│ Create image +│ [\d :-]+│ cancelled +│/,
      "a cancellation is not a failure",
    );
    assert.match(opTable.stdout, /│ Delete image +│ \d{4}-\d\d-\d\d \d\d:\d\d +│ done +│/);
  });

  test("webhooks and audit: subscribe, see deliveries, read who did what", async () => {
    const received: string[] = [];
    const target = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
    try {
      const created = await ok(["webhook", "create", url, "--types", "image.create", "--format", "json"]);
      assert.equal(typeof created.secret, "string");
      const table = await run(["webhook", "list", "--format", "table"]);
      // 80 columns: the wide cells are cut, the types are not.
      assert.match(table.stdout, new RegExp(`│ ${created.id.slice(0, 10)}.* │ image\\.create +│`));
      await ok([
        "image",
        "create",
        "--source-uri",
        files.serve("hook.qcow2", image("qcow2", 1).path),
        "--name",
        "hooked",
      ]);
      const deliveries = await ok([
        "webhook",
        "deliveries",
        created.id,
        "--status",
        "delivered",
        "--format",
        "json",
      ]);
      assert.equal(received.length >= 1, true);
      assert.equal(JSON.parse(received[0]!).type, "dev.vitrine.image.create");
      assert.equal(deliveries.deliveries.length >= 1, true, JSON.stringify(deliveries));
      const audit = await ok([
        "audit",
        "list",
        "--since",
        "10m",
        "--decision",
        "allowed",
        "--format",
        "json",
      ]);
      const subscribed = (audit.records as Json[]).find((r) => r.action === "POST /vitrine/v1/webhooks");
      assert.ok(subscribed, JSON.stringify(audit));
      assert.equal(subscribed.status, 200);
      const auditTable = await run(["audit", "list", "--since", "10m", "--format", "table"]);
      assert.match(auditTable.stdout, /│ TIME +│ DECISION +│ STATUS +│ SUBJECT/);
      const bad = await run(["audit", "list", "--since", "yesterday"]);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /--since: yesterday is neither a duration/);
      await ok(["webhook", "delete", created.id]);
      assert.equal(((await ok(["webhook", "list"])).webhooks as Json[]).length, 0);
    } finally {
      target.close();
    }
  });

  test("quotas: the admin sets limits with units, reads them as a table or JSON; a create over a limit says which", async () => {
    const set = await run([
      "quota",
      "set",
      "cli-quota",
      "image_size_total=10M",
      "image_count_total=1",
      "--format",
      "json",
    ]);
    assert.equal(set.status, 0, set.stderr);
    assert.equal((JSON.parse(set.stdout) as Json).quotas.image_size_total.limit, String(10 * 1024 * 1024));
    const defaults = await ok(["quota", "set", "--default", "image_count_uploading=8"]);
    assert.deepEqual(defaults.defaults, { image_count_uploading: "8" });

    const table = await run(["quota", "get", "cli-quota", "--format", "table"]);
    assert.match(table.stdout, /│ QUOTA +│ USAGE +│ LIMIT +│ USED +│/);
    assert.match(table.stdout, /│ image_size_total +│ 0 B +│ 10 MiB +│ 0% +│/);
    assert.match(table.stdout, /│ image_stage_total +│ 0 B +│ no limit +│ +│/);
    assert.match(table.stdout, /│ image_count_uploading +│ 0 +│ 8 +│ 0% +│/, "the default holds");
    const listed = await run(["quota", "list", "--format", "table"]);
    assert.match(listed.stdout, /│ \(default\) +│ image_count_uploading +│ +│ 8 +│/);
    assert.match(listed.stdout, /│ cli-quota +│ image_size_total +│/);

    const uri = files.serve("quota.qcow2", image("qcow2", 8).path);
    const first = await run([
      "image",
      "create",
      "--source-uri",
      uri,
      "--name",
      "q-1",
      "--folder-id",
      "cli-quota",
    ]);
    assert.equal(first.status, 0, first.stderr);
    const over = await run([
      "image",
      "create",
      "--source-uri",
      uri,
      "--name",
      "q-2",
      "--folder-id",
      "cli-quota",
    ]);
    assert.equal(over.status, 1);
    assert.match(
      over.stderr,
      /^vitrine: Quota exceeded for image_count_total of project cli-quota: the limit is 1, 1 is in use/,
    );
    assert.equal(over.stderr.trim().split("\n").length, 1, "one line");

    // Mistakes are named before anything is sent.
    for (const args of [
      ["cli-quota", "images=3"],
      ["cli-quota", "image_size_total=lots"],
      ["image_count_total=3"],
    ]) {
      const bad = await run(["quota", "set", ...args]);
      assert.equal(bad.status, 2, bad.stderr);
    }
    assert.equal((await run(["quota", "set", "--default", "image_count_uploading=none"])).status, 0);
  });

  test("lifecycle: deprecate with a replacement and a schedule, a badge and a warning, the recycle bin, retention rules", async () => {
    const uri = files.serve("life.qcow2", image("qcow2", 8).path);
    const inFolder = ["--folder-id", "cli-life"];
    const create = (name: string) =>
      ok(["image", "create", "--source-uri", uri, "--name", name, "--family", "life", ...inFolder]);
    const old = await create("life-1");
    const fresh = await create("life-2");
    const deprecated = await ok([
      "image",
      "deprecate",
      "life-1",
      "--replacement",
      "life-2",
      "--obsolete-in",
      "30d",
      ...inFolder,
    ]);
    assert.equal(deprecated.deprecated.state, "DEPRECATED");
    assert.equal(deprecated.deprecated.replacement, fresh.id);
    const in30Days = Date.parse(deprecated.deprecated.obsoleteAt) - Date.now();
    assert.ok(Math.abs(in30Days - 30 * 86_400_000) < 60_000, deprecated.deprecated.obsoleteAt);
    const table = await run(["image", "list", ...inFolder, "--format", "table"]);
    assert.match(table.stdout, /READY \(DEPRECATED\)/);
    const shown = await run(["image", "get", "life-1", ...inFolder, "--format", "table"]);
    assert.match(shown.stderr, new RegExp(`warning: image ${old.id} is deprecated; use ${fresh.id} instead`));
    const latest = await ok(["image", "get-latest-by-family", "life", ...inFolder]);
    assert.equal(latest.id, fresh.id);
    const bad = await run(["image", "deprecate", "life-1", "--state", "retired", ...inFolder]);
    assert.equal(bad.status, 2, bad.stderr);

    await ok(["recycle-bin", "set-retention", "1d", ...inFolder]);
    const retention = await run(["recycle-bin", "get-retention", ...inFolder, "--format", "table"]);
    assert.match(retention.stdout, /│ retention +│ 1d +│/);
    assert.match(retention.stdout, /│ installationRetention +│ 0s +│/);
    await ok(["image", "delete", "life-1", ...inFolder]);
    const bin = (await ok(["recycle-bin", "list", ...inFolder])) as unknown as Json[];
    assert.deepEqual(
      bin.map((i) => i.id),
      [old.id],
    );
    const restored = await ok(["recycle-bin", "restore", "life-1", ...inFolder]);
    assert.equal(restored.id, old.id);
    assert.equal((await ok(["image", "get", old.id, ...inFolder])).deprecated.state, "DEPRECATED");
    await ok(["image", "delete", "life-2", "--skip-recycle-bin", ...inFolder]);
    assert.deepEqual(await ok(["recycle-bin", "list", ...inFolder]), []);

    const rule = await run([
      "retention",
      "set",
      "life",
      "--keep",
      "1",
      "--action",
      "obsolete",
      "--after",
      "0",
      ...inFolder,
      "--format",
      "table",
    ]);
    assert.equal(rule.status, 0, rule.stderr);
    assert.match(rule.stdout, /│ life +│ 1 +│ obsolete +│ 0s +│/);
    assert.equal((await run(["retention", "set", "life", "--keep", "none", ...inFolder])).status, 2);
    assert.equal((await run(["retention", "delete", "life", ...inFolder])).status, 0);
  });

  test("conversion: a folder's policy, a create that ends converted, an export as an image and as a file", async () => {
    const source = image("qcow2", 8);
    const uri = files.serve("conv.qcow2", source.path);
    const inFolder = ["--folder-id", "cli-conv"];
    const set = await run([
      "conversion",
      "set",
      "--target",
      "raw",
      "--keep",
      "iso",
      ...inFolder,
      "--format",
      "table",
    ]);
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /│ conversion +│ raw \(keeping iso\) +│/);
    assert.match(set.stdout, /│ installationConversion +│ none +│/);
    const converted = await ok(["image", "create", "--source-uri", uri, "--name", "conv-raw", ...inFolder]);
    assert.equal(converted.status, "READY");
    await ok(["conversion", "set", "--default", ...inFolder]);
    assert.equal((await ok(["conversion", "get", ...inFolder])).conversion.target, "none");
    assert.equal((await run(["conversion", "set", "--target", "iso", ...inFolder])).status, 1);
    assert.equal((await run(["conversion", "set", ...inFolder])).status, 2);

    const original = await ok(["image", "create", "--source-uri", uri, "--name", "conv-q", ...inFolder]);
    const copy = await ok([
      "image",
      "export",
      "conv-q",
      "--to",
      "vhdx",
      "--new-name",
      "conv-vhdx",
      ...inFolder,
    ]);
    assert.equal(copy.name, "conv-vhdx");
    assert.equal(copy.status, "READY");
    const file = path.join(home, "conv.vmdk");
    const exported = await run([
      "image",
      "export",
      original.id,
      "--to",
      "vmdk",
      "--output",
      file,
      ...inFolder,
    ]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stderr, /written to .*conv\.vmdk/);
    execFileSync("qemu-img", ["compare", "-q", "-f", "qcow2", "-F", "vmdk", source.path, file]);
    const names = ((await ok(["image", "list", ...inFolder])) as unknown as Json[]).map((i) => i.name).sort();
    assert.deepEqual(names, ["conv-q", "conv-raw", "conv-vhdx"], "the copy made for --output is gone");
    const bad = await run(["image", "export", "conv-q", "--to", "iso", ...inFolder]);
    assert.equal(bad.status, 2, bad.stderr);
  });

  test("BareMetal images: create from a URL, list, update, get, delete", async () => {
    const installer = iso("cli-bm");
    const uri = files.serve("installer.iso", installer.path);
    const created = await ok(["baremetal", "image", "create", "--name", "installer", "--uri", uri]);
    assert.equal(created.status, "READY");
    assert.equal(created.checksum, installer.md5);
    const listed = (await ok(["baremetal", "image", "list"])) as unknown as Json[];
    assert.deepEqual(
      listed.map((i) => i.name),
      ["installer"],
    );
    const updated = await ok(["baremetal", "image", "update", "installer", "--description", "netinst"]);
    assert.equal(updated.description, "netinst");
    assert.equal((await ok(["baremetal", "image", "get", "--id", created.id])).description, "netinst");
    await ok(["baremetal", "image", "delete", "installer"]);
    assert.equal((await run(["baremetal", "image", "get", created.id])).status, 1);
  });

  test("errors that say what to do: no token, an endpoint that is not Vitrine, a bad endpoint setting", async () => {
    // A new machine: no profile, the endpoint and folder from the environment, no token anywhere.
    const noToken = await run(["image", "list"], {
      XDG_CONFIG_HOME: tempDir("cli-fresh"),
      VITRINE_ENDPOINT: server.url,
      VITRINE_FOLDER_ID: folder,
    });
    assert.equal(noToken.status, 1);
    assert.match(noToken.stderr, /no token is set: run `vitrine config set token <token>` or pass --token/);
    // A web server that is not Vitrine (a proxy's page, a typo'd port): one line, not its HTML.
    const web = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>It works</title>");
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    try {
      const endpoint = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
      const html = await run(["image", "list", "--endpoint", endpoint]);
      assert.equal(html.status, 1);
      assert.match(html.stderr, /does not answer like Vitrine's API \(it sent text\/html\)/);
      assert.ok(!html.stderr.includes("<"), html.stderr);
    } finally {
      web.close();
    }
    for (const bad of ["ftp://host", "not a url", "http://host:9292/?x=1"]) {
      const set = await run(["config", "set", "endpoint", bad]);
      assert.equal(set.status, 2, bad);
      assert.match(set.stderr, /^vitrine: endpoint: /);
    }
    assert.equal((await ok(["config", "list", "--format", "json"])).endpoint, server.url, "unchanged");
  });

  test("admin commands list what they create: subjects, tokens, folder bindings; unbind", async () => {
    const admin = ["--data-dir", server.dataDir];
    /** An admin list command's answer, as JSON. */
    const listed = async (...args: string[]) =>
      (await ok([...args, ...admin, "--format", "json"])) as unknown as Json[];
    const created = await run(["subject", "create", "--name", "carol", ...admin]);
    assert.equal(created.status, 0, created.stderr);
    const carol = created.stdout.trim();
    const subjects = await listed("subject", "list");
    assert.deepEqual(
      subjects.filter((x) => x.id === carol).map((x) => [x.name, x.type, x.isAdmin]),
      [["carol", "userAccount", false]],
    );
    assert.equal(
      (await run(["folder", "bind", "--folder", "f-carol", "--subject", carol, "--role", "viewer", ...admin]))
        .status,
      0,
    );
    const token = (await run(["token", "create", "--subject", carol, "--ttl", "1d", ...admin])).stdout.trim();
    const tokens = await listed("token", "list", "--subject", carol);
    assert.equal(tokens.length, 1);
    assert.match(String(tokens[0]!.id), /^[0-9a-f]{12}$/);
    assert.ok(tokens[0]!.expiresAt && !JSON.stringify(tokens).includes(token), "never the token's value");
    const bindings = await listed("folder", "list-bindings", "--folder", "f-carol");
    assert.deepEqual(bindings, [
      { folderId: "f-carol", role: "viewer", subjectType: "userAccount", subjectId: carol },
    ]);
    const bySubject = await listed("folder", "list-bindings", "--subject", carol);
    assert.deepEqual(
      bySubject.map((b) => b.folderId),
      ["f-carol"],
    );
    const unbind = () =>
      run(["folder", "unbind", "--folder", "f-carol", "--subject", carol, "--role", "viewer", ...admin]);
    assert.equal((await unbind()).status, 0);
    assert.deepEqual(await listed("folder", "list-bindings", "--folder", "f-carol"), []);
    const again = await unbind();
    assert.equal(again.status, 1, "nothing to unbind");
  });

  test("help texts carry examples", async () => {
    const help = await run(["image", "--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:\n {2}vitrine image create --name ubuntu-24/);
    for (const group of [
      ["baremetal", "image"],
      ["operation"],
      ["config"],
      ["subject"],
      ["token"],
      ["folder"],
    ]) {
      const text = (await run([...group, "--help"])).stdout;
      assert.match(text, /Examples:\n {2}vitrine /, group.join(" "));
      for (const line of text.split("\n")) assert.ok(line.length <= 100, `${group.join(" ")}: ${line}`);
    }
  });

  test("Ctrl-C while waiting for an import offers to cancel it; yes cancels, and nothing is left", async () => {
    const result = await interruptedImport("to-cancel", 16, "y\r");
    assert.equal(result.status, 130, result.output);
    assert.match(result.output, /operation \S+ cancelled/);
    // A cancelled create leaves no image behind.
    const gone = await run(["image", "get", "to-cancel"]);
    assert.equal(gone.status, 1, gone.stdout);
  });
});

describe("real client: the vitrine CLI never acts on an image picked at random", () => {
  let server: RunningServer;
  before(async () => {
    // Glance's free names (the glance profile) let a folder hold two images of one name.
    server = await startServer({ env: { VITRINE_OPENSTACK_PROFILE: "glance" } });
  });
  after(async () => {
    await server?.stop();
  });

  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: {
          ...process.env,
          XDG_CONFIG_HOME: tempDir("cli-home"),
          VITRINE_ENDPOINT: server.url,
          VITRINE_TOKEN: server.token,
          VITRINE_FOLDER_ID: "twins",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

  test("an ambiguous name is refused with the candidates (exit 1), and nothing changes", async () => {
    const twins: string[] = [];
    for (let i = 0; i < 2; i++) {
      const made = await server.request("POST", "/v2/images", { name: "dup", owner: "twins" });
      assert.equal(made.status, 201, made.text);
      twins.push((await server.request("GET", `/compute/v1/images/${made.body.id}`)).body.id);
    }
    for (const args of [
      ["image", "delete", "dup"],
      ["image", "update", "dup", "--description", "which one?"],
      ["image", "get", "dup"],
    ]) {
      const r = await run(args);
      assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /More than one image is named dup in folder twins/);
      for (const id of twins) assert.match(r.stderr, new RegExp(id));
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
    }
    for (const id of twins) {
      const still = await server.request("GET", `/compute/v1/images/${id}`);
      assert.equal(still.status, 200);
      assert.equal(still.body.description, undefined);
    }
    // By id, each is reachable.
    assert.equal((await run(["image", "get", twins[0]!])).status, 0);
  });
});
