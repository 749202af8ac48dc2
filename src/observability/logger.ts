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

/**
 * The service's logger: JSON lines for a log collector, or readable colored lines when stdout is
 * a terminal (someone watching `vitrine serve`). Secrets are censored either way.
 */
export function createLogger(
  level: string,
  base: Record<string, unknown> = {},
  toTerminal = process.stdout.isTTY === true,
): Logger {
  const options = {
    level,
    base: { pid: process.pid, ...base },
    redact: { paths: REDACTED, censor: "[redacted]" },
  };
  return toTerminal
    ? pino(
        options,
        pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true }),
      )
    : pino(options);
}
