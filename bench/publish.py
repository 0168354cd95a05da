#!/usr/bin/env python
"""What publishing one check-in's events costs: two `broadcast.send` before, one round trip now.

    .venv/bin/python bench/publish.py [--redis-url redis://127.0.0.1:6379/15] [--publishes 2000] [--rounds 5]

A check-in changes one shelter; after commit it sends `shelter.updated` to the city stream and to the
shelter's stream. In one process, with the production channel layer (channels_redis's pub/sub) on
the Redis at --redis-url (under a prefix of its own, deleted at the end) and one subscriber on both
streams draining what arrives (as a server process's hub does), it times per publish, in rounds
that take turns so the machine's noise falls on all alike:

- before: the path every event took until now, kept as the fallback of other channel layers
  (`broadcast._send_each`, once for the city event and once for the shelter's): per stream a
  MULTI/EXEC for the number, then a PUBLISH through the channel layer's own event loop;
- after: `shelters.events.publish_states([state])` -> `broadcast.send_many`, one EVALSHA that
  numbers both envelopes and publishes them;
- reference: a bare redis-py PUBLISH of one such message, measured in the same run.

Prints the median over rounds of wall time and of this process's CPU per publish, the Redis round
trips each makes (counted on redis-py's connections), and the ratios. Needs no PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--publishes", type=int, default=2000, help="per variant per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    prefix = f"bench-publish-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DEBUG": "0",  # production: no catalogue check on every event
            "REDIS_URL": args.redis_url,
            "REDIS_PREFIX": prefix,
        }
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()

    import redis
    import redis.asyncio.connection
    from channels.layers import get_channel_layer

    from realtime import broadcast
    from shelters import events as shelter_events

    state = {  # a ShelterState as a check-in sends it: figures only
        "id": 4211,
        "name": "会津若松市立第一小学校",
        "status": "open",
        "status_label": "開設",
        "kind": "designated",
        "source": "real",
        "capacity": 400,
        "occupancy": 217,
        "outside_count": 12,
        "latitude": 37.4948,
        "longitude": 139.9298,
        "support_counts": {"medical": 4, "wheelchair": 2, "infant": 9, "allergy": 3, "language": 1},
        "support_people": 17,
        "alerts": [],
        "version": 1093,
    }
    layer = get_channel_layer()
    city, shelter = broadcast.CITY_STREAM, broadcast.shelter_stream(state["id"])
    channels = [broadcast.group_channel(prefix, stream) for stream in (city, shelter)]
    client = redis.Redis.from_url(args.redis_url)

    # One subscriber on both streams, as a server process's hub: Redis fans out to it in every variant.
    subscriber = redis.Redis.from_url(args.redis_url).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(*channels)
    received = [0]
    stop = threading.Event()

    def drain():
        while not stop.is_set():
            if subscriber.get_message(timeout=0.1) is not None:
                received[0] += 1

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()

    sent: list[int] = [0]
    for connection_class in (redis.connection.AbstractConnection, redis.asyncio.connection.AbstractConnection):
        original = connection_class.send_packed_command

        if connection_class is redis.asyncio.connection.AbstractConnection:

            async def counted(self, command, *a, _original=original, **k):
                sent[0] += 1
                return await _original(self, command, *a, **k)

        else:

            def counted(self, command, *a, _original=original, **k):
                sent[0] += 1
                return _original(self, command, *a, **k)

        connection_class.send_packed_command = counted

    reference_message = layer.serialize(
        broadcast.layer_message(
            event_type=shelter_events.SHELTER_UPDATED,
            text=broadcast.envelope(
                event_type=shelter_events.SHELTER_UPDATED,
                stream=city,
                position=broadcast.Position("0" * 16, 1),
                committed_at=time.time() * 1000,
                data={"shelters": [state]},
            ),
        )
    )

    def before():
        committed_at = time.time() * 1000
        broadcast._send_each(
            layer, broadcast.Event(shelter_events.SHELTER_UPDATED, [city], {"shelters": [state]}), committed_at
        )
        broadcast._send_each(
            layer, broadcast.Event(shelter_events.SHELTER_UPDATED, [shelter], {"shelters": [state]}), committed_at
        )

    def after():
        shelter_events.publish_states([state], committed_at=time.time() * 1000)

    def reference():
        client.publish(channels[0], reference_message)

    variants = {"before: 2 x broadcast.send": before, "after: send_many": after, "reference: bare PUBLISH": reference}
    for publish in variants.values():  # warm up: connections, the publisher's loop, the script
        for _ in range(20):
            publish()

    walls: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    trips: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, publish in variants.items():
            sent_before = sent[0]
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.publishes):
                publish()
            walls[name].append((time.perf_counter() - wall) / args.publishes)
            cpus[name].append((time.process_time() - cpu) / args.publishes)
            trips[name] = (sent[0] - sent_before) / args.publishes

    time.sleep(0.5)
    stop.set()
    drainer.join()
    expected = 20 * (2 + 2 + 1) + args.rounds * args.publishes * (2 + 2 + 1)
    keys = client.keys(f"{prefix}:*")
    if keys:
        client.delete(*keys)

    print(f"Redis {args.redis_url}, {args.rounds} rounds x {args.publishes} publishes of one check-in's events")
    print(f"{'':28} {'wall/publish':>13} {'CPU/publish':>12} {'round trips':>12}")
    for name in variants:
        print(
            f"{name:28} {statistics.median(walls[name]) * 1e6:10.0f} us {statistics.median(cpus[name]) * 1e6:9.0f} us"
            f" {trips[name]:12.2f}"
        )
    wall = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    b, a, r = variants
    print(f"after / before: wall {wall[a] / wall[b]:.2f}x, CPU {cpu[a] / cpu[b]:.2f}x")
    print(f"after / reference: wall {wall[a] / wall[r]:.2f}x, CPU {cpu[a] / cpu[r]:.2f}x")
    print(f"before / reference: wall {wall[b] / wall[r]:.2f}x, CPU {cpu[b] / cpu[r]:.2f}x")
    print(f"messages received by the subscriber: {received[0]} of {expected}")
    return 0 if received[0] == expected else 1


if __name__ == "__main__":
    sys.exit(main())
