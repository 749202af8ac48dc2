import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { SETTINGS, loadConfig } from "../../src/config.js";
import { tempDir } from "../helpers/server.js";

describe("configuration", () => {
  it("reports VITRINE_* variables no setting reads, with the setting probably meant", () => {
    const config = loadConfig(
      { dataDir: tempDir("config") },
      {
        VITRINE_LISTN: "127.0.0.1:1",
        VITRINE_SOMETHING_ELSE_ENTIRELY: "1",
        VITRINE_TOKEN: "client's",
        HOME: "/",
      },
    );
    assert.deepEqual(config.warnings, [
      "unknown setting VITRINE_LISTN (environment) is ignored; did you mean VITRINE_LISTEN?",
      "unknown setting VITRINE_SOMETHING_ELSE_ENTIRELY (environment) is ignored",
    ]);
    assert.equal(config.listen.port, 9292, "the misspelt one changed nothing");
  });

  it("reports config-file keys no setting reads", () => {
    const dir = tempDir("config-file");
    const file = path.join(dir, "vitrine.json");
    fs.writeFileSync(file, JSON.stringify({ VITRINE_LOG_LEVEL: "debug", VITRINE_MAX_IMAGE_BYTE: 5 }));
    const config = loadConfig({ dataDir: dir, config: file }, {});
    assert.equal(config.logLevel, "debug");
    assert.deepEqual(config.warnings, [
      `unknown setting VITRINE_MAX_IMAGE_BYTE (config file ${file}) is ignored; did you mean VITRINE_MAX_IMAGE_BYTES?`,
    ]);
  });

  it("lists every setting it reads, the conditional ones (Keystone, S3) included", () => {
    const env = Object.fromEntries(SETTINGS.map((s) => [s, undefined]));
    const config = loadConfig(
      { dataDir: tempDir("config-all"), blobStore: "s3://bucket/prefix" },
      {
        ...env,
        VITRINE_KEYSTONE_URL: "http://keystone:5000/v3",
        VITRINE_KEYSTONE_USERNAME: "vitrine",
        VITRINE_KEYSTONE_PASSWORD: "secret",
        VITRINE_S3_ENDPOINT: "http://s3:8080",
      },
    );
    assert.deepEqual(config.warnings, []);
    assert.equal(config.keystone?.url, "http://keystone:5000");
    assert.equal(config.s3?.bucket, "bucket");
  });
});
