import dns from "node:dns";
import net from "node:net";
import { invalidArgument } from "../core/errors.js";
import type { UrlGuard } from "../core/ports/ingest.js";

/**
 * Which hosts create-from-URI may fetch from. By default any public host; loopback, private,
 * link-local and other special-purpose ranges are refused unless the operator lists the host, so
 * the service cannot be pointed at the network it lives in (SSRF).
 */
export class UrlPolicy implements UrlGuard {
  private readonly anyHost: boolean;
  private readonly allowed: Set<string>;
  private readonly blocked = new net.BlockList();

  constructor(allowedHosts: readonly string[]) {
    this.anyHost = allowedHosts.includes("*");
    this.allowed = new Set(allowedHosts.map((h) => normaliseHost(h)));
    for (const [prefix, bits] of BLOCKED_V4) this.blocked.addSubnet(prefix, bits, "ipv4");
    for (const [prefix, bits] of BLOCKED_V6) this.blocked.addSubnet(prefix, bits, "ipv6");
  }

  check(uri: string, field = "uri"): void {
    this.parse(uri, field);
  }

  /** Parses and checks what can be checked without network access; throws INVALID_ARGUMENT. */
  parse(uri: string, field = "uri"): URL {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw invalidArgument(`${field}: not a valid URL`, [{ field, description: "not a valid URL" }]).because(
        "URI_REFUSED",
        { uri: "" },
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      const description = `scheme ${url.protocol.replace(/:$/, "")} is not allowed; use http or https`;
      throw invalidArgument(`${field}: ${description}`, [{ field, description }]).because("URI_REFUSED", {
        uri: url.protocol,
      });
    }
    if (url.username || url.password) {
      const description = "credentials in the URL are not allowed; use a pre-signed URL";
      throw invalidArgument(`${field}: ${description}`, [{ field, description }]).because("URI_REFUSED", {
        uri: url.host,
      });
    }
    const host = normaliseHost(url.hostname);
    if (net.isIP(host) && !this.isHostListed(host)) this.checkAddress(host, field);
    return url;
  }

  isHostListed(hostname: string): boolean {
    return this.anyHost || this.allowed.has(normaliseHost(hostname));
  }

  /** Throws when `address` is in a refused range. */
  checkAddress(address: string, field = "uri"): void {
    const family = net.isIP(address) === 6 ? "ipv6" : "ipv4";
    const mapped = family === "ipv6" ? ipv4Mapped(address) : null;
    if (this.blocked.check(mapped ?? address, mapped ? "ipv4" : family)) {
      const description =
        `address ${address} is in a loopback, private or link-local range; ` +
        "list the host in VITRINE_IMPORT_ALLOWED_HOSTS to allow it";
      throw invalidArgument(`${field}: ${description}`, [{ field, description }]).because("URI_REFUSED", {
        uri: address,
      });
    }
  }

  /**
   * A `dns.lookup` replacement for the HTTP client: resolves, then refuses the connection when
   * any address is refused. Checking at connect time (not before) defeats DNS rebinding.
   */
  lookupFor(hostname: string): net.LookupFunction {
    const listed = this.isHostListed(hostname);
    return (host, options, callback) => {
      dns.lookup(host, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, "", 0);
        try {
          if (!listed) for (const a of addresses) this.checkAddress(a.address);
        } catch (refusal) {
          return callback(refusal as NodeJS.ErrnoException, "", 0);
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0]!;
        callback(null, first.address, first.family);
      });
    };
  }
}

function normaliseHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
}

function ipv4Mapped(address: string): string | null {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : null;
}

// Special-purpose ranges (RFC 6890 and friends) that a public object store never lives in.
const BLOCKED_V4: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];
const BLOCKED_V6: [string, number][] = [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
];
