"""A Glance notification consumer written against oslo.messaging (Debian's python3-oslo.messaging),
as Ceilometer's are: listens on the `glance` exchange's `notifications` topic and prints each
notification as a JSON line. Runs until killed. Argument: the transport URL (rabbit://...)."""
import json
import sys
import time

from oslo_config import cfg
import oslo_messaging


class Endpoint:
    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        print(json.dumps({"ctxt": ctxt, "publisher_id": publisher_id, "event_type": event_type,
                          "payload": payload, "metadata": metadata}, default=str), flush=True)


conf = cfg.ConfigOpts()
conf([], project="vitrine-test")
transport = oslo_messaging.get_notification_transport(conf, url=sys.argv[1])
targets = [oslo_messaging.Target(topic="notifications", exchange="glance")]
listener = oslo_messaging.get_notification_listener(transport, targets, [Endpoint()], executor="threading")
listener.start()
print(json.dumps({"ready": True}), flush=True)
while True:
    time.sleep(3600)
