"""Drives the Stellwerk SensorThings API with frost-sta-client, FROST's Python client.

Usage: python frost_sta_client.py URL TOKEN    (URL ends in /v1.1, the server starts empty)
Checks deep insert, Observations created one by one, $filter/$orderby/$top, paging
through @iot.nextLink, nested $expand, update (PUT) and JSON Patch, delete with its
cascade, and the client's error for a bad $filter.
Prints "ok" and exits 0 when every step behaved as it does against FROST.
"""
import logging
import os
import sys

# This file is called frost_sta_client.py: keep its own folder off the import path,
# or "import frost_sta_client" would import this script instead of the library.
_here = os.path.dirname(os.path.realpath(__file__))
sys.path = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != _here]

import frost_sta_client as fsc  # noqa: E402
import requests  # noqa: E402

url, token = sys.argv[1], sys.argv[2]
writer = fsc.SensorThingsService(url, auth_handler=fsc.AuthHandler(username="stellwerk", password=token))
reader = fsc.SensorThingsService(url)

OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def expect(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


def report_http_error(kind, error, trace):
    """An HTTP error nobody expected: show the request the client sent and the answer."""
    response = getattr(error, "response", None)
    if isinstance(error, requests.exceptions.HTTPError) and response is not None:
        body = response.request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        print("FAILED: unexpected", response.status_code, "for", response.request.method, response.request.url)
        if body:
            print("  request body:", body)
        print("  response:", response.text[:2000])
    sys.__excepthook__(kind, error, trace)


sys.excepthook = report_http_error


def http_error(call):
    """Runs call, which should fail; returns (status, response text) of the client's HTTPError."""
    logging.disable(logging.ERROR)  # the client logs every failure it re-raises
    try:
        call()
    except requests.exceptions.HTTPError as error:
        return error.response.status_code, error.response.text
    finally:
        logging.disable(logging.NOTSET)
    return None, ""


def every(entity_list):
    """All entities of a query, following @iot.nextLink as the client's iteration does."""
    return list(entity_list)


expect(reader.things().query().list().entities == [], "the server starts without Things")
status, _ = http_error(lambda: reader.create(fsc.Thing(name="Eindringling", description="ohne Schlüssel")))
expect(status in (401, 403), f"a create without credentials is refused with 401/403, got {status}")
status, _ = http_error(lambda: fsc.SensorThingsService(
    url, auth_handler=fsc.AuthHandler(username="stellwerk", password="falscher-schluessel")
).create(fsc.Thing(name="Eindringling", description="falscher Schlüssel")))
expect(status in (401, 403), f"a create with a wrong token is refused with 401/403, got {status}")

# 1. Deep insert: Thing with Location and Datastream (new Sensor, new ObservedProperty) in one POST.
thing = fsc.Thing(
    name="Pegel Mayen",
    description="Pegel an der Nette in Mayen",
    properties={"gewaesser": "Nette"},
    locations=[fsc.Location(
        name="Pegel Mayen",
        description="Standort des Pegels an der Nette-Brücke",
        encoding_type="application/geo+json",
        location={"type": "Point", "coordinates": [7.22, 50.33]},
    )],
    datastreams=[fsc.Datastream(
        name="Wasserstand Pegel Mayen",
        description="Wasserstand der Nette im Viertelstundentakt",
        observation_type=OM_MEASUREMENT,
        unit_of_measurement=fsc.UnitOfMeasurement(
            name="Zentimeter", symbol="cm", definition="http://qudt.org/vocab/unit/CentiM"),
        sensor=fsc.Sensor(
            name="Drucksonde PS-1",
            description="Drucksonde im Pegelrohr",
            encoding_type="application/pdf",
            metadata="https://example.org/datenblatt/ps-1.pdf",
        ),
        observed_property=fsc.ObservedProperty(
            name="Wasserstand",
            description="Wasserstand über Pegelnullpunkt",
            definition="https://example.org/begriffe/wasserstand",
        ),
    )],
)
writer.create(thing)
expect(thing.id is not None, "create(thing) takes the new id from the Location header")

shown = reader.things().find(thing.id)
expect(shown.name == "Pegel Mayen" and shown.properties == {"gewaesser": "Nette"}, "the Thing reads back by id")
places = shown.get_locations().query().list().entities
expect(len(places) == 1, f"the deep-inserted Thing has one Location, got {len(places)}")
expect(places[0].encoding_type == "application/geo+json", "the Location keeps its encodingType")
expect(places[0].location["type"] == "Point" and list(places[0].location["coordinates"]) == [7.22, 50.33],
       f"the Location keeps its GeoJSON point, got {places[0].location}")
streams = thing.get_datastreams().query().list().entities
expect(len(streams) == 1, f"the deep-inserted Thing has one Datastream, got {len(streams)}")
datastream = streams[0]
expect(datastream.unit_of_measurement is not None and datastream.unit_of_measurement.symbol == "cm",
       "the Datastream keeps its unitOfMeasurement")
expect(datastream.observation_type == OM_MEASUREMENT, "the Datastream keeps its observationType")
properties = reader.observed_properties().query().filter("name eq 'Wasserstand'").list().entities
expect(len(properties) == 1, "the ObservedProperty was created with the Datastream")
expect(len(reader.sensors().query().list().entities) == 1, "the Sensor was created with the Datastream")

# 2. Observations one by one, each pointing at the Datastream the client read back.
created = []
for number in range(25):
    hours, minutes = divmod(15 * number, 60)
    observation = fsc.Observation(
        phenomenon_time=f"2024-05-01T{hours:02d}:{minutes:02d}:00Z",
        result=100 + number,
        datastream=datastream,
    )
    writer.create(observation)
    created.append(observation.id)
expect(None not in created and len(set(created)) == 25, "each created Observation gets its own id")

high = every(reader.observations().query().filter("result gt 120").list())
expect(sorted(o.result for o in high) == [121, 122, 123, 124],
       f"result gt 120 gives exactly 4, got {sorted(o.result for o in high)}")
at_mayen = every(reader.observations().query().filter("Datastream/Thing/name eq 'Pegel Mayen'").list())
expect(len(at_mayen) == 25, f"filter across Datastream/Thing finds all 25, got {len(at_mayen)}")
elsewhere = reader.observations().query().filter("Datastream/Thing/name eq 'Pegel Koblenz'").list()
expect(elsewhere.entities == [], "filter across Datastream/Thing finds nothing for another name")
latest = reader.observations().query().orderby("phenomenonTime", "desc").top(1).list().entities
expect(len(latest) == 1 and latest[0].result == 124, "orderby phenomenonTime desc, top 1 gives the latest, 124")
expect(latest[0].phenomenon_time is not None and latest[0].phenomenon_time.startswith("2024-05-01T06:00:00"),
       f"the latest phenomenonTime is 06:00, got {latest[0].phenomenon_time}")
of_stream = every(datastream.get_observations().query().filter("result le 101").list())
expect(sorted(o.result for o in of_stream) == [100, 101], "Datastreams(id)/Observations with a filter")

# 3. Paging: $top=10 pages, the client's iteration follows @iot.nextLink.
first = reader.observations().query().top(10).count().list()
expect(len(first.entities) == 10, f"the first page holds $top=10, got {len(first.entities)}")
expect(first.next_link is not None, "a page with more to come carries @iot.nextLink")
expect(first.count == 25, f"$count=true gives @iot.count 25, got {first.count}")
paged = [o.id for o in first]
expect(len(paged) == 25 and set(paged) == set(created), f"iterating all pages yields the 25 ids, got {len(paged)}")
ordered = every(reader.observations().query().orderby("phenomenonTime", "asc").top(10).list())
expect([o.result for o in ordered] == list(range(100, 125)), "the nextLink keeps $orderby across pages")

# 4. Nested $expand.
expanded = reader.things().query().expand(
    "Datastreams($expand=Observations($orderby=phenomenonTime desc;$top=1)),Locations").list().entities
expect(len(expanded) == 1, f"one Thing, got {len(expanded)}")
inline = expanded[0]
expect(inline.datastreams is not None and len(inline.datastreams.entities) == 1, "the Datastream is expanded inline")
newest = inline.datastreams.entities[0].observations
expect(newest is not None and len(newest.entities) == 1, "exactly one Observation is expanded inline ($top=1)")
expect(newest.entities[0].result == 124, f"the inline Observation is the latest, got {newest.entities[0].result}")
expect(inline.locations is not None and len(inline.locations.entities) == 1, "the Location is expanded inline")
expect(list(inline.locations.entities[0].location["coordinates"]) == [7.22, 50.33], "the inline Location's point")

# 5. Update (the client PUTs the whole entity) and JSON Patch.
shown = reader.things().find(thing.id)
shown.description = "Hochwassermeldepegel an der Nette in Mayen"
writer.update(shown)
again = reader.things().find(thing.id)
expect(again.description == "Hochwassermeldepegel an der Nette in Mayen", f"update changed it, got {again.description}")
expect(again.name == "Pegel Mayen" and again.properties == {"gewaesser": "Nette"}, "update keeps name and properties")
writer.patch(again, [
    {"op": "replace", "path": "/description", "value": "Pegel Mayen (Nette), Meldestufe 1 ab 180 cm"},
    {"op": "add", "path": "/properties/meldestufe1", "value": 180},
])
again = reader.things().find(thing.id)
expect(again.description == "Pegel Mayen (Nette), Meldestufe 1 ab 180 cm", f"JSON Patch replaced it, got {again.description}")
expect(again.properties == {"gewaesser": "Nette", "meldestufe1": 180}, f"JSON Patch added a property, got {again.properties}")
expect(len(again.get_datastreams().query().list().entities) == 1, "the Datastream survives the updates")

# 6. Delete one Observation, then the Thing with its Datastream and Observations.
gone = reader.observations().find(created[0])
writer.delete(gone)
status, _ = http_error(lambda: reader.observations().find(created[0]))
expect(status == 404, f"a deleted Observation is 404, got {status}")
expect(len(every(reader.observations().query().top(10).list())) == 24, "24 Observations remain")
writer.delete(again)
status, _ = http_error(lambda: reader.things().find(thing.id))
expect(status == 404, f"a deleted Thing is 404, got {status}")
expect(reader.things().query().list().entities == [], "no Things remain")
expect(reader.datastreams().query().list().entities == [], "deleting the Thing deletes its Datastream")
expect(reader.observations().query().list().entities == [], "deleting the Datastream deletes its Observations")

# 7. A bad $filter is the client's HTTPError, a 400 naming the property.
status, text = http_error(lambda: reader.observations().query().filter("nosuchproperty eq 1").list())
expect(status is not None, "a filter on an unknown property raises the client's HTTPError")
expect(status == 400 or "nosuchproperty" in text, f"the error is a 400 or names the property, got {status}: {text[:300]}")
print("ok")
