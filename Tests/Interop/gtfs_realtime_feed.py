"""Reads the mobility service's republished GTFS-Realtime feeds with gtfs-realtime-bindings (the
reference Python bindings), as a journey planner polls them.

Usage: gtfs_realtime_feed.py BASE_URL TRIP_ID DELAY_SECONDS ALERT_ID
Prints "ok" on the last line when the trip updates hold TRIP_ID with a departure delay of
DELAY_SECONDS at its first updated stop and the alerts hold ALERT_ID.
"""
import sys
import time
import urllib.request

from google.transit import gtfs_realtime_pb2

base, trip, delay, alert = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def feed(path):
    with urllib.request.urlopen(base + path, timeout=30) as answer:
        assert answer.status == 200, answer.status
        assert answer.headers["Content-Type"] == "application/x-protobuf", answer.headers["Content-Type"]
        message = gtfs_realtime_pb2.FeedMessage()
        message.ParseFromString(answer.read())
    assert message.header.gtfs_realtime_version == "2.0", message.header
    assert message.header.incrementality == gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    assert abs(time.time() - message.header.timestamp) < 300, message.header.timestamp
    return message


updates = feed("/gtfs-rt/trip-updates.pb")
found = [entity.trip_update for entity in updates.entity if entity.trip_update.trip.trip_id == trip]
assert len(found) == 1, [entity.id for entity in updates.entity]
assert found[0].stop_time_update[0].departure.delay == delay, found[0]
alerts = feed("/gtfs-rt/service-alerts.pb")
assert alert in [entity.id for entity in alerts.entity if entity.HasField("alert")], alerts
print(f"{len(updates.entity)} trip updates, {len(alerts.entity)} alerts")
print("ok")
