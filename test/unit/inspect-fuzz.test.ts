import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { FormatSniffer } from "../../src/inspect/sniffer.js";
import { image, iso } from "../helpers/fixtures.js";
import { partitioned } from "../helpers/hostile.js";
import { tempDir } from "../helpers/server.js";
import { seededRandom } from "../helpers/seeded-random.js";

/** What qemu-img's own probe may call an image we accept as each format (it calls a fixed VHD raw). */
const QEMU_PROBE: Record<string, string[]> = {
  qcow2: ["qcow2"],
  vmdk: ["vmdk"],
  vhd: ["vpc", "raw"],
  vhdx: ["vhdx"],
  vdi: ["vdi"],
};
const MUTATIONS_PER_IMAGE = 60;
const dir = tempDir("fuzz");

/** One mutation: overwrite a few header bytes with random or extreme values, or cut the file. */
function mutate(data: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(data);
  const kind = rand();
  if (kind < 0.15) return out.subarray(0, Math.floor(rand() * out.length));
  const region = kind < 0.7 ? 1024 : Math.min(out.length, 256 * 1024);
  const count = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(rand() * region);
    const value = rand() < 0.3 ? [0x00, 0xff, 0x7f, 0x80][Math.floor(rand() * 4)]! : Math.floor(rand() * 256);
    if (at < out.length) out[at] = value;
  }
  return out;
}

describe("inspector fuzzing: mutated honest headers", () => {
  const seeds: [string, string][] = [
    ["qcow2", image("qcow2", 8).path],
    ["qcow2 v2", image("qcow2", 8, "compat=0.10").path],
    ["vmdk", image("vmdk", 8).path],
    ["vmdk stream", image("vmdk", 8, "subformat=streamOptimized").path],
    ["vhd", image("vpc", 8).path],
    ["vhd fixed", image("vpc", 8, "subformat=fixed").path],
    ["vhdx", image("vhdx", 8).path],
    ["vdi", image("vdi", 8).path],
    ["iso", iso("fuzz").path],
    ["gpt", partitioned("fuzz-gpt", "gpt", 8)],
  ];
  for (const [name, file] of seeds) {
    test(
      `${name}: never throws, never hangs, never accepts with a format qemu-img's probe disagrees with`,
      { timeout: 60_000 },
      () => {
        const honest = fs.readFileSync(file);
        for (let seed = 1; seed <= MUTATIONS_PER_IMAGE; seed++) {
          const data = mutate(honest, seededRandom(seed * 7919 + name.length));
          const sniffer = new FormatSniffer();
          for (let off = 0; off < data.length; off += 65536) sniffer.push(data.subarray(off, off + 65536));
          const verdict = sniffer.verdict(); // a throw fails the test with the seed in the name below
          if (verdict.findings.length > 0 || verdict.format === "raw" || verdict.format === "iso") continue;
          const mutated = path.join(dir, `${name.replace(/\W/g, "_")}-${seed}`);
          fs.writeFileSync(mutated, data);
          // qemu-img probes the format itself here (no -f): an accepted file must be what we call it.
          const info = spawnSync("qemu-img", ["info", "--output=json", mutated], { encoding: "utf8" });
          if (info.status === 0) {
            const probed = (JSON.parse(info.stdout) as { format: string }).format;
            assert.ok(
              QEMU_PROBE[verdict.format]!.includes(probed),
              `seed ${seed}: accepted as ${verdict.format}, qemu-img probes ${probed}`,
            );
          }
          fs.rmSync(mutated);
        }
      },
    );
  }
});
