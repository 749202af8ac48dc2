import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pipeline } from "node:stream/promises";

/**
 * The plain Node yardstick server, run as its own process (as Vitrine is) so that the benchmark's
 * own heap and event loop do not slow it down (in-process, its file stream measured 0.4–0.7 GB/s
 * where the same code alone streams 1.0–1.3 GB/s). Three routes: PUT /upload writes the body to
 * disk without hashing; GET /file streams FILE in 1 MiB chunks (Vitrine's read size); GET /json
 * answers the fixed JSON body in JSON_FILE. Prints "listening PORT".
 *
 *   node --import tsx bench/harness/reference-server.ts DIR FILE JSON_FILE
 */
const [dir, file, jsonFile] = process.argv.slice(2) as [string, string, string];
const body = fs.readFileSync(jsonFile);
let n = 0;
const server = http.createServer((req, res) => {
  if (req.method === "PUT" && req.url === "/upload") {
    const target = path.join(dir, `upload-${n++}`);
    pipeline(req, fs.createWriteStream(target)).then(
      () => {
        fs.rmSync(target, { force: true });
        res.writeHead(204).end();
      },
      () => res.writeHead(500).end(),
    );
    return;
  }
  if (req.url === "/file") {
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": fs.statSync(file).size,
    });
    fs.createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res);
    return;
  }
  res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${(server.address() as AddressInfo).port}`));
