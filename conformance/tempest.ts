/**
 * Runs OpenStack Tempest's image v2 API suite (`tempest.api.image.v2`, Debian's `tempest`
 * package) against Vitrine in Keystone mode, the way a Glance deployment is certified: a real
 * Keystone (Debian's package under uwsgi), Vitrine validating its tokens and registered in its
 * catalog as the image service, Tempest creating its own projects and users. Prints Tempest's
 * summary and writes it to conformance/results/. `npm run conformance:tempest`.
 *
 * Vitrine refuses a declared disk_format that does not match the data; Tempest uploads random
 * bytes as any format, so this run sets VITRINE_RELAX_FORMAT_MISMATCH=true, the documented
 * switch for running Glance's suite (the inspector's safety rules still apply). It also turns on
 * the glance profile (VITRINE_OPENSTACK_PROFILE): Tempest expects Glance's defaults (a new image
 * is shared unless given; any visibility on create) where the seed's IMS differs.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startFileServer } from "../test/helpers/file-server.js";
import { image } from "../test/helpers/fixtures.js";
import { ADMIN_PASSWORD, startKeystone } from "../test/helpers/keystone.js";
import { startServer, tempDir } from "../test/helpers/server.js";
import { startSwiftS3 } from "../test/helpers/swift.js";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SERVICE_PASSWORD = "vitrine-service-secret";
const REGEX = process.argv[2] ?? "^tempest\\.api\\.image\\.v2\\.";

// web-download fetches CONF.image.http_image: served here (no internet), a qcow2 made by qemu-img.
// Two stores, as Tempest's multi-store, copy-image and caching classes need: an S3 bucket (Swift's
// s3api) as the default store, with the node cache in front of it, and the data directory.
const swift = await startSwiftS3();
process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
const s3 = new S3Client({ endpoint: swift.endpoint, region: swift.region, forcePathStyle: true });
await s3.send(new CreateBucketCommand({ Bucket: "tempest" }));
s3.destroy();
const files = await startFileServer();
const httpImage = files.serve("cirros.qcow2", image("qcow2", 8).path);
const keystone = await startKeystone();
const server = await startServer({
  env: {
    ...(await keystone.serviceEnv(SERVICE_PASSWORD)),
    VITRINE_RELAX_FORMAT_MISMATCH: "true",
    VITRINE_OPENSTACK_PROFILE: "glance",
    // Every answer Tempest reads is checked against the schema Vitrine serves for it.
    VITRINE_CHECK_RESPONSES: "true",
    VITRINE_IMPORT_ALLOWED_HOSTS: "*",
    VITRINE_STORES: "s3=s3://tempest/images",
    VITRINE_DEFAULT_STORE: "s3",
    VITRINE_S3_ENDPOINT: swift.endpoint,
    VITRINE_S3_REGION: swift.region,
    VITRINE_CACHE_SIZE: String(1024 ** 3),
    VITRINE_SHOW_LOCATIONS: "true",
    AWS_ACCESS_KEY_ID: swift.accessKeyId,
    AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
  },
});
await keystone.registerImageEndpoint(server.url);
// A second node of the same installation, as Tempest's `image_remote` service: a stage on one node
// and an import or delete on the other (every node serves any request).
const remote = await startServer({ dataDir: server.dataDir, env: server.env });
await keystone.registerImageEndpoint(remote.url, "image_remote");

const workspace = tempDir("tempest");
let summary = "";
try {
  await run("tempest", ["init", workspace]);
  fs.writeFileSync(
    path.join(workspace, "etc", "tempest.conf"),
    [
      "[DEFAULT]",
      `log_dir = ${workspace}`,
      "log_file = tempest.log",
      "[auth]",
      "use_dynamic_credentials = True",
      "admin_username = admin",
      `admin_password = ${ADMIN_PASSWORD}`,
      "admin_project_name = admin",
      "admin_domain_name = Default",
      "[identity]",
      `uri_v3 = ${keystone.url}/v3`,
      "auth_version = v3",
      "region = RegionOne",
      "[identity-feature-enabled]",
      "api_v2 = False",
      "[service_available]",
      "glance = True",
      "nova = False",
      "neutron = False",
      "cinder = False",
      "swift = False",
      "[image]",
      "region = RegionOne",
      "endpoint_type = publicURL",
      `http_image = ${httpImage}`,
      "image_caching_enabled = True",
      "alternate_image_endpoint = image_remote",
      "[image-feature-enabled]",
      "api_v2 = True",
      // Vitrine reserves os_glance_* properties as Glance 25 does.
      "os_glance_reserved = True",
      "api_v1 = False",
      "import_image = True",
      "manage_locations = True",
      "",
    ].join("\n"),
  );
  // Tests left out, each with its reason written next to it (conformance/tempest-excluded.txt).
  const excluded = fs
    .readFileSync(path.join(ROOT, "conformance", "tempest-excluded.txt"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("tempest."));
  const exclude =
    excluded.length > 0
      ? ["--exclude-regex", excluded.map((t) => `^${t.replace(/\./g, "\\.")}(\\[|$)`).join("|")]
      : [];
  const result = await run("tempest", ["run", "--regex", REGEX, ...exclude, "--concurrency", "2"], {
    cwd: workspace,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => ({
    stdout: err.stdout ?? "",
    stderr: err.stderr ?? "",
  }));
  const out = `${result.stdout}\n${result.stderr}`;
  const failed = [...out.matchAll(/^\{\d+\} (\S+) .*\.\.\. FAILED$/gm)].map((m) => m[1]!);
  summary = [
    ...out
      .split("\n")
      .filter((l) => /^(Totals| - (Passed|Skipped|Expected Fail|Unexpected Success|Failed):)/.test(l)),
    "",
    "Failed:",
    ...failed.map((f) => `  ${f}`),
  ].join("\n");
  console.log(
    out
      .split("\n")
      .filter((l) => / \.\.\. (ok|FAILED|SKIPPED)/.test(l))
      .join("\n"),
  );
  console.log(summary);
  const known = new Set(
    fs
      .readFileSync(path.join(ROOT, "conformance", "tempest-known-failures.txt"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("tempest.")),
  );
  const unexpected = failed.filter((f) => !known.has(f));
  const passed = Number(/ - Passed: (\d+)/.exec(out)?.[1] ?? 0);
  if (unexpected.length > 0 || passed === 0) {
    console.error(`tempest: ${unexpected.length} failures outside conformance/tempest-known-failures.txt`);
    process.exitCode = 1;
  }
  const results = path.join(ROOT, "conformance", "results");
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(
    path.join(results, `tempest-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`),
    `${out}\n`,
  );
} finally {
  await remote.stop();
  await server.stop();
  await keystone.stop();
  await files.close();
  await swift.stop();
}
