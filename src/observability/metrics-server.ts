import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";

/** What a scrape answers: the Prometheus text of one process, or of all a cluster's workers. */
export type Scrape = () => Promise<{ contentType: string; body: string }>;

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The metrics listener: `GET /metrics` and nothing else, on its own address so that it can be
 * bound to the operators' network only (README "Operating Vitrine"); it serves no image data and
 * needs no token.
 */
export async function startMetricsServer(
  listen: { host: string; port: number },
  scrape: Scrape,
  log: Logger,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
      return;
    }
    scrape().then(
      ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
      (err: unknown) => {
        log.error({ err }, "collecting metrics failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("collecting metrics failed\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
