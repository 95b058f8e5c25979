"""Holds the mobility service's ParkAPI v3 parking sites against the validators of parkapi-sources
(the ParkAPI project's own models, which ParkAPI v3 applies to what sources push to it).

Usage: parkapi_sites.py URL EXPECTED_SITES EXPECTED_WITH_REALTIME
Prints "ok" on the last line when every item passes as static data and, where it has realtime data,
as realtime data too.
"""
import json
import sys
import urllib.request

from parkapi_sources.models import RealtimeParkingSiteInput, StaticParkingSiteInput
from validataclass.exceptions import ValidationError
from validataclass.validators import DataclassValidator

url, expected, expected_realtime = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with urllib.request.urlopen(url, timeout=30) as answer:
    assert answer.status == 200, answer.status
    document = json.loads(answer.read())
items = document["items"]
assert document["total_count"] == len(items) == expected, (document["total_count"], len(items))
static, realtime = DataclassValidator(StaticParkingSiteInput), DataclassValidator(RealtimeParkingSiteInput)
failures = []
with_realtime = 0
for item in items:
    try:
        site = static.validate(item)
        if site.has_realtime_data:
            update = realtime.validate(item)
            assert 0 <= update.realtime_free_capacity <= update.realtime_capacity, item
            with_realtime += 1
    except ValidationError as error:
        failures.append((item.get("uid"), error.to_dict()))
for uid, error in failures:
    print(uid, error)
assert not failures, f"{len(failures)} items refused"
assert with_realtime == expected_realtime, with_realtime
print(f"{len(items)} sites, {with_realtime} with occupancy")
print("ok")
