import fs from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";

/**
 * A local HTTP server standing in for object storage. `/files/<name>` serves a registered file;
 * `/slow/<name>` trickles it (`chunkBytes` every `intervalMs`) so an import stays in progress;
 * `/chunked/<name>` sends it without a Content-Length; `/status/<code>` answers that status; `/redirect/<name>` redirects to `/files/<name>`;
 * `/ranged/<name>` trickles it like `/slow/` and serves byte ranges (`Range`, `If-Range` against
 * its ETag, which `etags` may change), as object stores do.
 */
export interface FileServer {
  url: string;
  serve(name: string, file: string): string;
  requests: string[];
  /** The Range header of each `/ranged/` request ("" for none), and the bytes each sent. */
  ranges: { range: string; sent: number }[];
  /** The ETag each `/ranged/` file is served with (default `"v1"`). */
  etags: Map<string, string>;
  close(): Promise<void>;
}

export async function startFileServer(
  opts: { chunkBytes?: number; intervalMs?: number } = {},
): Promise<FileServer> {
  const files = new Map<string, string>();
  const requests: string[] = [];
  const chunkBytes = opts.chunkBytes ?? 16 * 1024;
  const intervalMs = opts.intervalMs ?? 100;
  const sockets = new Set<Socket>();
  const ranges: { range: string; sent: number }[] = [];
  const etags = new Map<string, string>();
  /** Sends the file from `from` at `chunkBytes` every `intervalMs`. */
  const trickle = (
    file: string,
    from: number,
    size: number,
    res: http.ServerResponse,
    onSent: (bytes: number) => void = () => {},
  ) => {
    const fd = fs.openSync(file, "r");
    let offset = from;
    const timer = setInterval(() => {
      const buf = Buffer.alloc(Math.min(chunkBytes, size - offset));
      fs.readSync(fd, buf, 0, buf.length, offset);
      offset += buf.length;
      onSent(buf.length);
      if (!res.write(buf) && res.destroyed) offset = size;
      if (offset >= size || res.destroyed) {
        clearInterval(timer);
        fs.closeSync(fd);
        res.end();
      }
    }, intervalMs);
    res.on("close", () => {
      if (offset < size) {
        clearInterval(timer);
        fs.closeSync(fd);
      }
    });
  };
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    // A query (a pre-signed URL's signature) does not name the file.
    const [, mode, name, extra] = (req.url ?? "").split("?")[0]!.split("/");
    if (mode === "status") {
      res.writeHead(Number(name)).end();
      return;
    }
    if (mode === "redirect") {
      res.writeHead(302, { location: extra ? decodeURIComponent(extra) : `/files/${name}` }).end();
      return;
    }
    const file = name ? files.get(name) : undefined;
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const size = fs.statSync(file).size;
    if (mode === "ranged") {
      const etag = etags.get(name!) ?? '"v1"';
      const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ""));
      const ifRange = req.headers["if-range"];
      const from = m && (ifRange === undefined || ifRange === etag) ? Number(m[1]) : 0;
      const served = { range: String(req.headers.range ?? ""), sent: 0 };
      ranges.push(served);
      const headers = { etag, "accept-ranges": "bytes", "content-length": size - from };
      if (from > 0) res.writeHead(206, { ...headers, "content-range": `bytes ${from}-${size - 1}/${size}` });
      else res.writeHead(200, headers);
      trickle(file, from, size, res, (n) => (served.sent += n));
      return;
    }
    if (mode === "chunked") {
      // No length announced: the reader learns the size only at the end.
      res.writeHead(200, { "content-type": "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(200, { "content-length": size, "content-type": "application/octet-stream" });
    if (mode === "slow") {
      trickle(file, 0, size, res);
      return;
    }
    fs.createReadStream(file).pipe(res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    ranges,
    etags,
    serve: (name, file) => {
      files.set(name, path.resolve(file));
      return `${url}/files/${name}`;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
