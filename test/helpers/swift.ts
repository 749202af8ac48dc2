import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./net.js";

/**
 * OpenStack Swift from Debian's packages with its s3api middleware: a one-node object store that
 * speaks S3 (path-style, region us-east-1), for the S3 blob store's tests. Account, container and
 * object servers keep their data in a temporary directory (one device, one replica); tempauth
 * holds the credentials (access key `test:tester`, secret `testing`); memcached backs tempauth.
 */
export interface SwiftS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The server processes' output, for diagnosing a failed start. */
  logs(): string;
  stop(): Promise<void>;
}

const SERVERS = ["account", "container", "object"] as const;

export async function startSwiftS3(): Promise<SwiftS3> {
  // A port picked free can be taken by another test's server before Swift binds it: try again.
  return startOnce().catch(() => startOnce());
}

async function startOnce(): Promise<SwiftS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vitrine-swift-"));
  const devices = path.join(dir, "devices");
  fs.mkdirSync(path.join(devices, "d1"), { recursive: true });
  const ports = {
    account: await freePort(),
    container: await freePort(),
    object: await freePort(),
    proxy: await freePort(),
    memcached: await freePort(),
  };
  const user = process.getuid?.() === 0 ? "root" : os.userInfo().username;
  const common = (port: number) =>
    [
      "[DEFAULT]",
      `devices = ${devices}`,
      "mount_check = false",
      "bind_ip = 127.0.0.1",
      `bind_port = ${port}`,
      "workers = 0",
      `swift_dir = ${dir}`,
      `user = ${user}`,
      "log_level = WARNING",
      "",
    ].join("\n");
  for (const server of SERVERS) {
    fs.writeFileSync(
      path.join(dir, `${server}-server.conf`),
      `${common(ports[server])}[pipeline:main]\npipeline = ${server}-server\n\n[app:${server}-server]\nuse = egg:swift#${server}\n` +
        (server === "object" ? "" : "") +
        `\n[${server}-replicator]\n\n[${server}-auditor]\n` +
        (server === "container"
          ? "\n[container-updater]\n"
          : server === "account"
            ? "\n[account-reaper]\n"
            : "\n[object-updater]\n"),
    );
  }
  fs.writeFileSync(
    path.join(dir, "proxy-server.conf"),
    `${common(ports.proxy)}` +
      [
        "[pipeline:main]",
        // s3api needs listing_formats for listings, copy for server-side copies, slo for multipart.
        "pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server",
        "",
        "[app:proxy-server]",
        "use = egg:swift#proxy",
        "account_autocreate = true",
        "",
        "[filter:tempauth]",
        "use = egg:swift#tempauth",
        "user_test_tester = testing .admin",
        "",
        "[filter:s3api]",
        "use = egg:swift#s3api",
        "location = us-east-1",
        "",
        "[filter:cache]",
        "use = egg:swift#memcache",
        `memcache_servers = 127.0.0.1:${ports.memcached}`,
        "",
        "[filter:catch_errors]",
        "use = egg:swift#catch_errors",
        "",
        "[filter:gatekeeper]",
        "use = egg:swift#gatekeeper",
        "",
        "[filter:listing_formats]",
        "use = egg:swift#listing_formats",
        "",
        "[filter:copy]",
        "use = egg:swift#copy",
        "",
        "[filter:slo]",
        "use = egg:swift#slo",
        "",
        "[filter:dlo]",
        "use = egg:swift#dlo",
        "",
        "[filter:healthcheck]",
        "use = egg:swift#healthcheck",
        "",
        "[filter:proxy-logging]",
        "use = egg:swift#proxy_logging",
        "",
      ].join("\n"),
  );
  // One ring per server, one device, one replica; built in one Python process (the
  // swift-ring-builder command would start nine).
  const rings = SERVERS.map((server) => `("${server}", ${ports[server]})`).join(", ");
  execFileSync("/usr/bin/python3", [
    "-c",
    [
      "from swift.common.ring import RingBuilder",
      `for name, port in [${rings}]:`,
      "    b = RingBuilder(0, 1, 1)",
      "    b.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port, 'device': 'd1', 'weight': 1})",
      "    b.rebalance()",
      `    b.get_ring().save('${dir}/%s.ring.gz' % name)`,
    ].join("\n"),
  ]);

  const children: ChildProcess[] = [];
  let output = "";
  const run = (cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += `${Date.now() % 100000} ${cmd}: ${d.toString()}`));
    children.push(child);
  };
  run("memcached", [
    "-l",
    "127.0.0.1",
    "-p",
    String(ports.memcached),
    "-U",
    "0",
    "-u",
    user === "root" ? "root" : user,
  ]);
  for (const server of SERVERS)
    run(`swift-${server}-server`, [path.join(dir, `${server}-server.conf`), "-v"]);
  run("swift-proxy-server", [path.join(dir, "proxy-server.conf"), "-v"]);

  const endpoint = `http://127.0.0.1:${ports.proxy}`;
  const stop = async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await Promise.all(
      children.map((c) =>
        c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : null,
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Ready when the proxy's health check passes and every storage server answers HTTP at all (the
  // proxy alone answers 503 "reduce your request rate" while they still start). Each poll is
  // bounded: a port picked free may meanwhile belong to something that never answers.
  const answers = (url: string, ok: (status: number) => boolean) =>
    fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => ok(r.status),
      () => false,
    );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.all([
      answers(`${endpoint}/healthcheck`, (status) => status === 200),
      ...SERVERS.map((server) => answers(`http://127.0.0.1:${ports[server]}/`, () => true)),
    ]);
    if (ready.every(Boolean)) break;
    if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
      await stop();
      throw new Error(`Swift did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    region: "us-east-1",
    accessKeyId: "test:tester",
    secretAccessKey: "testing",
    logs: () => output,
    stop,
  };
}
