import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import type { Logger } from "pino";
import type { EventRecord } from "../core/events/event.js";
import { glanceNotifications, osloEnvelope } from "../api/openstack/notifications.js";
import type { EventsConfig } from "../config.js";

type NotificationsConfig = NonNullable<EventsConfig["notifications"]>;

/**
 * Glance-compatible notifications on an AMQP 0-9-1 broker (RabbitMQ), as oslo.messaging's
 * notifier sends them: a topic exchange named after the service (`glance`), routing key
 * `<topic>.info`, and the queue of that name declared beside it (as oslo does) so that what is
 * published before a consumer first connects waits for it. The broker confirms each batch before
 * the outbox marks it published.
 */
export class AmqpNotifier {
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private readonly routingKey: string;

  constructor(
    private readonly config: NotificationsConfig,
    private readonly log: Logger,
  ) {
    this.routingKey = `${config.topic}.info`;
  }

  /** Publishes every notification of `events`, in order; resolves once the broker confirmed them all. */
  async publish(events: EventRecord[]): Promise<void> {
    const channel = await this.open();
    try {
      for (const event of events) {
        for (const n of glanceNotifications(event)) {
          const body = Buffer.from(JSON.stringify(osloEnvelope(n, event, this.config.publisherId)));
          channel.publish(this.config.exchange, this.routingKey, body, {
            contentType: "application/json",
            contentEncoding: "utf-8",
            messageId: n.messageId,
          });
        }
      }
      await channel.waitForConfirms();
    } catch (err) {
      await this.reset();
      throw err;
    }
  }

  private async open(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const connection = await amqp.connect(this.config.url, { timeout: 5000 });
    connection.on("error", (err: Error) =>
      this.log.warn({ err: err.message }, "notification broker connection error"),
    );
    connection.on("close", () => {
      if (this.connection === connection) this.connection = this.channel = null;
    });
    try {
      const channel = await connection.createConfirmChannel();
      channel.on("error", (err: Error) => this.log.warn({ err: err.message }, "notification channel error"));
      // oslo.messaging's defaults (amqp_durable_queues and amqp_auto_delete false): the same
      // declarations its listeners make, or the broker refuses the second as inequivalent.
      await channel.assertExchange(this.config.exchange, "topic", { durable: false, autoDelete: false });
      await channel.assertQueue(this.routingKey, { durable: false, autoDelete: false });
      await channel.bindQueue(this.routingKey, this.config.exchange, this.routingKey);
      this.connection = connection;
      this.channel = channel;
      this.log.info(
        { exchange: this.config.exchange, routingKey: this.routingKey },
        "connected to the notification broker",
      );
      return channel;
    } catch (err) {
      await connection.close().catch(() => {});
      throw err;
    }
  }

  private async reset(): Promise<void> {
    const connection = this.connection;
    this.connection = this.channel = null;
    await connection?.close().catch(() => {});
  }

  close(): Promise<void> {
    return this.reset();
  }
}
