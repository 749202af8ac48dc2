import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { UsageError } from "../../src/cli/client/exit-codes.js";
import { humanBytes, outputFormat, parseBytes, parseLabels } from "../../src/cli/client/output.js";
import { Settings, resolveSettings } from "../../src/cli/client/settings.js";
import { tempDir } from "../helpers/server.js";

describe("the CLI's units, labels and settings", () => {
  test("sizes as people write them, binary as in yc; refused when not a size", () => {
    assert.equal(parseBytes("10G", "--min-disk-size"), 10 * 1024 ** 3);
    assert.equal(parseBytes("10GB", "f"), 10 * 1024 ** 3);
    assert.equal(parseBytes("10 GiB", "f"), 10 * 1024 ** 3);
    assert.equal(parseBytes("512m", "f"), 512 * 1024 ** 2);
    assert.equal(parseBytes("1.5T", "f"), 1.5 * 1024 ** 4);
    assert.equal(parseBytes("4096", "f"), 4096);
    for (const bad of ["", "G", "-1G", "10X", "1e3", "ten"]) {
      assert.throws(() => parseBytes(bad, "--min-disk-size"), UsageError, bad);
    }
    assert.equal(humanBytes(0), "0 B");
    assert.equal(humanBytes(1023), "1023 B");
    assert.equal(humanBytes(10 * 1024 ** 3), "10 GiB");
    assert.equal(humanBytes(1.5 * 1024 ** 2), "1.50 MiB");
  });

  test("labels k=v,...; an empty string clears them", () => {
    assert.deepEqual(parseLabels("a=1,b=x=y, c = 3"), { a: "1", b: "x=y", c: "3" });
    assert.deepEqual(parseLabels(""), {});
    assert.throws(() => parseLabels("novalue"), UsageError);
    assert.throws(() => parseLabels("=x"), UsageError);
  });

  test("table on a terminal, JSON in a pipe, --format wins", () => {
    assert.equal(outputFormat(undefined, true), "table");
    assert.equal(outputFormat(undefined, false), "json");
    assert.equal(outputFormat("yaml", true), "yaml");
    assert.throws(() => outputFormat("xml"), UsageError);
  });

  test("settings: flags over VITRINE_* over the profile over the default; the file is 0600", () => {
    const home = tempDir("settings");
    const env = { XDG_CONFIG_HOME: home };
    const settings = new Settings(env);
    assert.equal(resolveSettings(settings, {}, env).endpoint, "http://127.0.0.1:9292");
    settings.set(undefined, "endpoint", "http://a:1/");
    settings.set(undefined, "folder-id", "f-profile");
    assert.equal(fs.statSync(path.join(home, "vitrine", "config.json")).mode & 0o777, 0o600);
    assert.deepEqual(resolveSettings(settings, {}, env), {
      endpoint: "http://a:1",
      token: null,
      folderId: "f-profile",
      profile: "default",
    });
    assert.equal(resolveSettings(settings, {}, { ...env, VITRINE_FOLDER_ID: "f-env" }).folderId, "f-env");
    assert.equal(
      resolveSettings(settings, { folderId: "f-flag" }, { ...env, VITRINE_FOLDER_ID: "f-env" }).folderId,
      "f-flag",
    );
    settings.createProfile("prod");
    assert.equal(resolveSettings(settings, {}, env).folderId, null, "a new profile starts empty");
    assert.equal(resolveSettings(settings, { profile: "default" }, env).folderId, "f-profile");
    assert.throws(() => resolveSettings(settings, { profile: "nope" }, env), UsageError);
    assert.throws(() => settings.deleteProfile("prod"), UsageError, "the current profile stays");
    fs.writeFileSync(path.join(home, "vitrine", "config.json"), "{not json");
    assert.throws(() => settings.read(), UsageError);
  });
});
