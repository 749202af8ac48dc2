"""A Glance notification consumer written against oslo.messaging (Debian's python3-oslo.messaging),
as Ceilometer's are: listens on the `glance` exchange's `notifications` topic and prints each
notification as a JSON line. Runs until killed. Argument: the transport URL (rabbit://...)."""
import json
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging


# The threading executor calls the endpoint from several threads: one line at a time.
lock = threading.Lock()


class Endpoint:
    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        line = json.dumps({"ctxt": ctxt, "publisher_id": publisher_id, "event_type": event_type,
                           "payload": payload, "metadata": metadata}, default=str)
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()


conf = cfg.ConfigOpts()
conf([], project="vitrine-test")
transport = oslo_messaging.get_notification_transport(conf, url=sys.argv[1])
targets = [oslo_messaging.Target(topic="notifications", exchange="glance")]
listener = oslo_messaging.get_notification_listener(transport, targets, [Endpoint()], executor="threading")
listener.start()
with lock:
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
while True:
    time.sleep(3600)
