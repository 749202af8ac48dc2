import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

/**
 * Never logged, wherever they turn up in a log entry: credentials in request headers, and any
 * field named like a secret (an error carrying a client's options, a configuration object).
 */
const REDACTED = [
  "req.headers.authorization",
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  "req.headers.cookie",
  "headers.authorization",
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  "*.headers.authorization",
  '*.headers["x-auth-token"]',
  '*.headers["x-subject-token"]',
  "token",
  "*.token",
  "password",
  "*.password",
  "secretAccessKey",
  "*.secretAccessKey",
];

/** The access line's fields (api/http/access-log.ts), folded into its message on a terminal. */
const ACCESS_FIELDS = ["method", "url", "route", "status", "bytes", "ms", "subject", "reqId"];
/** The start-up banner's fields (main.ts), which its message already says. */
const BANNER_FIELDS = [
  "console",
  "dataDir",
  "catalog",
  "blobs",
  "grpc",
  "grpcTls",
  "metrics",
  "adminTokenFile",
];

/**
 * The service's logger: JSON lines for a log collector, or readable colored lines when stdout is
 * a terminal (someone watching `vitrine serve`). Secrets are censored either way.
 */
export function createLogger(
  level: string,
  base: Record<string, unknown> = {},
  toTerminal = process.stdout.isTTY === true,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid, ...base },
    redact: { paths: REDACTED, censor: "[redacted]" },
    hooks: {
      // Fastify announces every address it listens on; the start-up banner (main.ts) says it once.
      logMethod(args, method, levelValue) {
        const [first, second] = args as unknown[];
        const text = typeof first === "string" ? first : second;
        if (levelValue === 30 && typeof text === "string" && text.startsWith("Server listening at ")) {
          return this.debug(...(args as [string]));
        }
        return method.apply(this, args);
      },
    },
  };
  return toTerminal
    ? pino(
        options,
        pretty({
          colorize: true,
          translateTime: "SYS:HH:MM:ss.l",
          // An access line reads as one line, like a web server's: the fields follow the message.
          ignore: ["pid", "hostname", ...ACCESS_FIELDS, ...BANNER_FIELDS].join(","),
          messageFormat: (entry, messageKey) => {
            const parts = [String(entry[messageKey] ?? "")];
            if (typeof entry.status === "number") parts.push(`${String(entry.ms)}ms ${String(entry.bytes)}B`);
            for (const key of ["subject", "reqId"])
              if (entry[key] !== undefined) parts.push(String(entry[key]));
            return parts.join(" ");
          },
          sync: true,
        }),
      )
    : pino(options);
}
