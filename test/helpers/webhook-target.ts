import http from "node:http";
import type { AddressInfo } from "node:net";
import { HTTP } from "cloudevents";

/** A webhook target: records what it receives, answers `status`, or is down (closed). */
export class Target {
  received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  status = 200;
  private server: http.Server;
  port = 0;

  constructor() {
    this.server = this.make();
  }

  private make(): http.Server {
    return http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(this.status).end();
      });
    });
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async down(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server = this.make();
  }

  close(): Promise<void> {
    return this.down();
  }

  /** The CloudEvents received, parsed by the CloudEvents SDK (which checks the spec's rules). */
  events() {
    return this.received.map(
      (r) =>
        HTTP.toEvent({ headers: r.headers, body: r.body }) as {
          type: string;
          data: any;
          id: string;
          subject?: string;
          source: string;
        },
    );
  }
}

export async function until<T>(
  read: () => T | Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
