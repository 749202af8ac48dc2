import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import amqp from "amqplib";
import { freePort } from "./net.js";

/**
 * A private RabbitMQ broker for tests (Debian's rabbitmq-server): its own node name, ports, Erlang
 * port mapper and cookie under a temporary directory, the default guest user on loopback.
 */
export interface RabbitMq {
  /** amqp://guest:guest@127.0.0.1:<port>/ */
  url: string;
  /** oslo.messaging's transport URL for the same broker (rabbit://...). */
  transportUrl: string;
  stop(): Promise<void>;
}

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** `port`: the AMQP port to listen on (a client may have been told it before the broker runs). */
export async function startRabbitMq(port?: number): Promise<RabbitMq> {
  if (!fs.existsSync(SERVER))
    throw new Error("rabbitmq-server not found: install the Debian package rabbitmq-server");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vitrine-rabbit-"));
  const amqpPort = port ?? (await freePort());
  const [distPort, epmdPort] = [await freePort(), await freePort()];
  const name = `vitrine${process.pid}${amqpPort}@localhost`;
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: name,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(dir, "log"),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
    RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq"),
    ERL_EPMD_PORT: String(epmdPort),
  };
  const log = fs.openSync(path.join(dir, "server.log"), "a");
  // Its own port mapper, in the foreground: one the broker started would outlive it as a daemon.
  const epmd = spawn("epmd", ["-port", String(epmdPort)], { stdio: "ignore" });
  while (!(await listening(epmdPort))) await new Promise((r) => setTimeout(r, 20));
  const child: ChildProcess = spawn(SERVER, [], { env, detached: true, stdio: ["ignore", log, log] });
  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(
        `rabbitmq-server exited: ${fs.readFileSync(path.join(dir, "server.log"), "utf8").slice(-2000)}`,
      );
    if (await accepts(url)) break;
    if (Date.now() > deadline) throw new Error("rabbitmq-server did not start within a minute");
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    transportUrl: url.replace(/^amqp:/, "rabbit:"),
    stop: async () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone already
      }
      epmd.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
    s.on("error", () => resolve(false));
  });
}

/** Whether the broker takes an AMQP connection (its port opens before it is ready). */
async function accepts(url: string): Promise<boolean> {
  if (!(await listening(Number(new URL(url).port)))) return false;
  try {
    const c = await amqp.connect(url, { timeout: 2000 });
    await c.close();
    return true;
  } catch {
    return false;
  }
}
