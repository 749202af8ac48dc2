import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pipeline } from "node:stream/promises";

/** The yardsticks measured in the same run: plain Node servers doing the least the job needs. */
export interface ReferenceServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Three routes: PUT /upload writes the body to disk without hashing; GET /file streams `file`;
 * GET /json answers a fixed JSON body the size of an image document.
 */
export async function startReferenceServer(
  dir: string,
  file: string,
  json: unknown,
): Promise<ReferenceServer> {
  const body = Buffer.from(JSON.stringify(json));
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
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
