"""Reads the sensor service's Pegelonline-shaped view with de-pegel-online, the generated client of
Pegelonline's REST API v2 (bundesAPI).

Usage: python pegelonline_client.py BASE_URL    (BASE_URL ends in /pegelonline/v2)
The service holds one station KUSEL on the GLAN (7.398, 49.538) with a timeseries W in cm, readings
every 15 minutes for the last 2 hours rising to 140 cm, and characteristic values MNW 40, MHW 130.
Prints "ok" and exits 0 when every call answers as Pegelonline would (waters.json is read by the
Swift test: this client's spec types it wrongly).
"""
import sys

from deutschland import pegel_online
from deutschland.pegel_online.api import measurement_api, station_api, water_api
from deutschland.pegel_online.exceptions import ApiException

base = sys.argv[1]


def expect(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


configuration = pegel_online.Configuration(host=base)
with pegel_online.ApiClient(configuration) as client:
    stations = station_api.StationApi(client)
    # The list answers come wrapped (ModelSimple): the list is in .value.
    everything = stations.get_stations(
        include_timeseries=True, include_current_measurement=True, include_characteristic_values=True).value
    expect(len(everything) == 1, f"one station, got {everything}")
    station = everything[0]
    expect(station["shortname"] == "KUSEL" and station["water"]["shortname"] == "GLAN", f"station {station}")
    expect(abs(station["latitude"] - 49.538) < 1e-9 and abs(station["longitude"] - 7.398) < 1e-9, "position")
    series = station["timeseries"][0]
    expect(series["shortname"] == "W" and series["unit"] == "cm", f"timeseries {series}")
    current = series["current_measurement"]
    expect(current["value"] == 140.0, f"current value {current}")
    expect(current["trend"] == 1, f"trend {current}")
    expect(current["state_mnw_mhw"] == "high", f"state {current}")
    expect([value["shortname"] for value in series["characteristic_values"]] == ["MNW", "MHW"], "characteristic values")

    by_id = stations.get_stations_by_id("kusel", include_timeseries=True)
    expect(by_id["uuid"] == station["uuid"], "station by shortname")
    by_uuid = stations.get_stations_by_id(station["uuid"])
    expect(by_uuid["number"] == station["number"], "station by uuid")
    expect(len(stations.get_stations(waters=["GLAN"]).value) == 1, "filter by water")
    expect(len(stations.get_stations(waters=["RHEIN"]).value) == 0, "filter by another water")
    expect(len(stations.get_stations(latitude=49.5, longitude=7.4, radius=10.0).value) == 1, "within 10 km")
    expect(len(stations.get_stations(latitude=50.0, longitude=7.4, radius=10.0).value) == 0, "not within 10 km")

    measurements = measurement_api.MeasurementApi(client).get_measurement_by_station(
        "KUSEL", "W", start="P8D").value
    values = [measurement["value"] for measurement in measurements]
    expect(values == [100.0, 105.0, 110.0, 120.0, 130.0, 135.0, 138.0, 140.0], f"measurements {values}")

    # The client's own spec types waters.json as one object, though Pegelonline answers a list, so
    # it cannot read it from the real service either; the Swift test reads it over HTTP. Its other
    # water call is the timeseries of a station:
    timeseries = water_api.WaterApi(client).get_current_measurment_by_station("KUSEL", "W")
    expect(timeseries["shortname"] == "W" and timeseries["gauge_zero"]["value"] == 231.5, f"timeseries {timeseries}")

    try:
        stations.get_stations_by_id("NIRGENDWO")
        expect(False, "an unknown station must be 404")
    except ApiException as error:
        expect(error.status == 404 and "NIRGENDWO" in error.body, f"404 body {error.body}")
print("ok")
