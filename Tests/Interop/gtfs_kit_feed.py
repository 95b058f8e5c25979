"""Reads the mobility service's republished GTFS zip with gtfs-kit, as a journey planner's
pipeline would, and holds the service's departure board for a stop and a day against the stop
timetable gtfs-kit builds from that zip.

Usage: gtfs_kit_feed.py BASE_URL STOP_ID DATE(YYYYMMDD) EXPECTED_STOPS EXPECTED_STOP_TIMES
The date must be in winter time (UTC+01:00). Prints "ok" on the last line when everything held.
"""
import datetime
import json
import sys
import tempfile
import urllib.parse
import urllib.request

import gtfs_kit

base, stop, date = sys.argv[1], sys.argv[2], sys.argv[3]
expected_stops, expected_stop_times = int(sys.argv[4]), int(sys.argv[5])


def get(path):
    with urllib.request.urlopen(base + path, timeout=60) as answer:
        assert answer.status == 200, (path, answer.status)
        return answer.headers, answer.read()


with tempfile.NamedTemporaryFile(suffix=".zip") as archive:
    headers, body = get("/gtfs/feed.zip")
    assert headers["Content-Type"] == "application/zip", headers["Content-Type"]
    archive.write(body)
    archive.flush()
    feed = gtfs_kit.read_feed(archive.name, dist_units="km")

assert len(feed.stops) == expected_stops, len(feed.stops)
assert len(feed.stop_times) == expected_stop_times, len(feed.stop_times)
dates = feed.get_dates()
assert date in dates, (date, dates[0], dates[-1])
quality = feed.assess_quality().set_index("indicator")["value"]
assert quality["num_route_short_names_duplicated"] == 0, quality
assert quality["num_trips_missing_shapes"] == feed.trips.shape[0], quality

# The stop's departures that day by gtfs-kit: every stop time there, less those without pickup.
timetable = feed.build_stop_timetable(stop, [date])
if "pickup_type" in timetable:
    timetable = timetable[timetable["pickup_type"].fillna(0).astype(int) != 1]
theirs = sorted(zip(timetable["trip_id"], timetable["departure_time"]))

# The service's: two boards of 24 hours (the day, and the night after it, when the day's last trips
# run past midnight), the departures of that service day only.
midnight = datetime.datetime.strptime(date, "%Y%m%d").replace(tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
ours = []
for start in (midnight, midnight + datetime.timedelta(days=1)):
    query = urllib.parse.urlencode({"at": start.isoformat(), "hours": 24, "limit": 200})
    _, body = get(f"/api/stops/{urllib.parse.quote(stop)}/departures?{query}")
    for departure in json.loads(body)["departures"]:
        if departure["service_date"] != date:
            continue
        seconds = int((datetime.datetime.fromisoformat(departure["scheduled"]) - midnight).total_seconds())
        ours.append((departure["trip_id"], f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"))
ours.sort()
assert len(theirs) > 0
assert ours == theirs, (len(ours), len(theirs), [x for x in ours if x not in theirs][:5], [x for x in theirs if x not in ours][:5])
print(f"{len(ours)} departures agree")
print("ok")
