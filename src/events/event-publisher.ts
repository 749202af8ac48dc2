import type { Logger } from "pino";
import { typeMatches } from "../core/events/event.js";
import type { Metrics } from "../observability/metrics.js";
import type { ServiceCatalog } from "../storage/meta/sql-catalog.js";
import type { AmqpNotifier } from "./amqp-notifier.js";
import { toCloudEvent } from "./cloud-event.js";
import type { WebhookDispatcher } from "./webhook-dispatcher.js";

export interface PublisherOptions {
  /** Who holds the lease (this process). */
  holder: string;
  /** Whether events are published (off: the publisher only removes what is past retention). */
  publish: boolean;
  notifier: AmqpNotifier | null;
  webhooks: WebhookDispatcher;
  /** Published events and finished deliveries older than this are removed. */
  eventRetentionMs: number;
  /** Audit records older than this are removed. */
  auditRetentionMs: number;
  pollMs?: number;
}

const LEASE = "events-publisher";
const LEASE_MS = 15_000;
const BATCH = 500;
const PURGE_EVERY_MS = 600_000;
/** After a broker failure: wait this long, doubling to a minute. */
const FIRST_RETRY_MS = 500;

/**
 * Publishes the outbox (README "Events and audit"). One node at a time holds the publisher's
 * lease; it reads unpublished events in order, sends them to the notification broker (confirmed),
 * queues them for the webhook subscriptions of their folder and marks them published — so an
 * event goes out at least once, in order per image, whichever node wrote it and whatever was
 * killed. It also sends due webhook deliveries and removes what is past retention.
 */
export class EventPublisher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private leaseUntil = 0;
  private lastPurge = 0;
  private retryAt = 0;
  private retryMs = FIRST_RETRY_MS;

  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly options: PublisherOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics | null,
  ) {}

  start(): void {
    const poll = this.options.pollMs ?? 200;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.pass()
        .catch((err: unknown) => this.log.error({ err }, "publishing events failed"))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(loop, poll);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.options.webhooks.idle();
    if (this.leaseUntil > Date.now())
      await this.catalog.leases.release(LEASE, this.options.holder).catch(() => {});
    await this.options.notifier?.close();
  }

  /** One pass: publish what waits (if this node holds the lease), deliver webhooks, purge. */
  async pass(): Promise<void> {
    const now = Date.now();
    // The lease is renewed a third of the way in: a node that died frees it within LEASE_MS.
    if (this.leaseUntil - now < (LEASE_MS * 2) / 3) {
      const held = await this.catalog.leases.acquire(LEASE, this.options.holder, now, now + LEASE_MS);
      this.leaseUntil = held ? now + LEASE_MS : 0;
      if (!held) return;
    }
    if (this.options.publish) {
      if (now >= this.retryAt) while ((await this.publishBatch()) === BATCH && !this.stopped);
      await this.options.webhooks.deliverDue();
    }
    if (now - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.purge(now);
    }
  }

  /** Publishes one batch; returns how many events it held. */
  private async publishBatch(): Promise<number> {
    const events = await this.catalog.outbox.unpublished(BATCH);
    if (events.length === 0) return 0;
    if (this.options.notifier) {
      try {
        await this.options.notifier.publish(events);
        this.retryMs = FIRST_RETRY_MS;
      } catch (err) {
        this.metrics?.eventsPublishFailed();
        this.retryAt = Date.now() + this.retryMs;
        this.log.warn(
          { err: (err as Error).message, retryInMs: this.retryMs, waiting: events.length },
          "the notification broker cannot be reached: events wait in the outbox",
        );
        this.retryMs = Math.min(60_000, this.retryMs * 2);
        return 0;
      }
    }
    const folders = [...new Set(events.map((e) => e.folderId).filter((f): f is string => f !== null))];
    const subscriptions = await this.catalog.webhookQueue.ofFolders(folders);
    const deliveries = events.flatMap((event) =>
      subscriptions
        .filter((s) => s.folderId === event.folderId)
        .filter((s) => s.types.length === 0 || s.types.some((p) => typeMatches(p, event.type)))
        .map((s) => ({ subscriptionId: s.id, eventSeq: event.seq, event: toCloudEvent(event) })),
    );
    await this.catalog.settlePublished(
      events.map((e) => e.seq),
      deliveries,
      Date.now(),
    );
    this.metrics?.eventsPublished(events.length);
    return events.length;
  }

  private async purge(now: number): Promise<void> {
    const events = await this.catalog.outbox.purgePublished(now - this.options.eventRetentionMs);
    const deliveries = await this.catalog.webhookQueue.purgeFinished(now - this.options.eventRetentionMs);
    const audit = await this.catalog.auditLog.purge(now - this.options.auditRetentionMs);
    if (events + deliveries + audit > 0) {
      this.log.info(
        { events, deliveries, auditRecords: audit },
        "removed events and audit records past retention",
      );
    }
  }
}
