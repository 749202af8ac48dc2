import { createHmac } from "node:crypto";
import type { Logger } from "pino";
import { Agent, request } from "undici";
import type { EventsConfig } from "../config.js";
import { describeCauses, findVitrineError } from "../error-causes.js";
import type { UrlPolicy } from "../ingest/url-policy.js";
import type { Metrics } from "../observability/metrics.js";
import type { SqlWebhookStore } from "../storage/meta/webhook-store.js";

/** The header a delivery's signature travels in (README "Events and audit"). */
export const SIGNATURE_HEADER = "vitrine-signature";

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the subscription's secret>`: the
 * receiver recomputes it over the raw body and refuses a stale `t` (a replayed delivery).
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** Subscriptions served at once. */
const PARALLEL = 32;
/** Deliveries one subscription's turn sends at most before it lets the next pass decide. */
const PER_TURN = 1000;

type Due = NonNullable<Awaited<ReturnType<SqlWebhookStore["dueHead"]>>>;

/**
 * Sends queued webhook deliveries: each subscription's oldest pending one (a later event waits
 * behind it, so a subscriber receives events in order), signed, to a target the import URL
 * rules allow (checked again at each attempt: DNS may have changed). A failure is retried with
 * exponential backoff (and jitter); after the last attempt the delivery is dead (the dead-letter
 * view) and the next one goes. Subscriptions are served side by side: a slow target holds back
 * only its own deliveries.
 */
export class WebhookDispatcher {
  private readonly serving = new Map<string, Promise<void>>();

  constructor(
    private readonly queue: SqlWebhookStore,
    private readonly policy: UrlPolicy,
    private readonly config: EventsConfig["webhooks"],
    private readonly log: Logger,
    private readonly metrics: Metrics | null,
  ) {}

  /** Starts serving every subscription with a delivery due that is not being served already. */
  async deliverDue(): Promise<void> {
    if (this.serving.size >= PARALLEL) return;
    for (const subscription of await this.queue.dueSubscriptions(Date.now(), PARALLEL * 2)) {
      if (this.serving.size >= PARALLEL) break;
      if (this.serving.has(subscription)) continue;
      const turn = this.serve(subscription)
        .catch((err: unknown) => this.log.error({ err, subscription }, "webhook delivery failed"))
        .finally(() => this.serving.delete(subscription));
      this.serving.set(subscription, turn);
    }
  }

  /** Resolves once no delivery is under way. */
  async idle(): Promise<void> {
    await Promise.all(this.serving.values());
  }

  /**
   * Sends a subscription's due deliveries in order until one fails (it waits for its retry). The
   * head is read once this turn holds the subscription: a row read before the previous turn
   * ended may be one it delivered.
   */
  private async serve(subscription: string): Promise<void> {
    let next = await this.queue.dueHead(subscription, Date.now());
    for (let sent = 0; next !== null && sent < PER_TURN; sent++) {
      if (!(await this.attempt(next))) return;
      next = await this.queue.dueHead(subscription, Date.now());
    }
  }

  /** One attempt; says whether the delivery ended (delivered or dead). */
  private async attempt(d: Due): Promise<boolean> {
    const attempts = d.attempts + 1;
    const body = JSON.stringify(d.event);
    const started = performance.now();
    let error: string;
    let refused = false;
    try {
      const url = this.policy.parse(d.url, "url");
      const agent = new Agent({
        connect: { lookup: this.policy.lookupFor(url.hostname), timeout: this.config.timeoutMs },
        headersTimeout: this.config.timeoutMs,
        bodyTimeout: this.config.timeoutMs,
      });
      try {
        const res = await request(url, {
          method: "POST",
          dispatcher: agent,
          headers: {
            "content-type": "application/cloudevents+json; charset=utf-8",
            "user-agent": "vitrine-webhooks",
            "vitrine-delivery": d.id,
            [SIGNATURE_HEADER]: signature(d.secret, body, Math.floor(Date.now() / 1000)),
          },
          body,
        });
        await res.body.dump().catch(() => undefined);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          await this.queue.delivered(d.id, Date.now(), attempts);
          this.metrics?.webhookAttempted("delivered", (performance.now() - started) / 1000);
          return true;
        }
        error = `HTTP ${res.statusCode}`;
      } finally {
        await agent.close().catch(() => undefined);
      }
    } catch (err) {
      const refusal = findVitrineError(err);
      refused = refusal !== null;
      error = refusal ? refusal.message : describeCauses(err);
    }
    const dead = refused || attempts >= this.config.maxAttempts;
    const next = dead ? null : Date.now() + this.backoff(attempts);
    await this.queue.failed(d.id, attempts, error, next, Date.now());
    this.metrics?.webhookAttempted(
      dead ? "dead" : "failed",
      refused ? null : (performance.now() - started) / 1000,
    );
    // The target's host, never its URL: a webhook URL may carry a token in its query.
    const fields = { subscription: d.subscriptionId, delivery: d.id, host: hostOf(d.url), attempts, error };
    if (dead) this.log.warn(fields, "webhook delivery dead: moved to the dead-letter view");
    else this.log.info(fields, "webhook delivery failed; will retry");
    return dead;
  }

  /** base × 2^(attempt−1), at most the cap, less up to a fifth (jitter: retries of many targets spread). */
  private backoff(attempt: number): number {
    const full = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(full * (1 - Math.random() * 0.2));
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(not a URL)";
  }
}
