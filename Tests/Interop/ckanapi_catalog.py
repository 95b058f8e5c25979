"""Drives the Stellwerk catalog with ckanapi, the CKAN client municipalities' tools use.

Usage: python ckanapi_catalog.py URL TOKEN
Prints "ok" and exits 0 when every step behaved as it does against CKAN.
"""
import sys

import ckanapi

url, token = sys.argv[1], sys.argv[2]
writer = ckanapi.RemoteCKAN(url, apikey=token, user_agent="stellwerk-interop")
anonymous = ckanapi.RemoteCKAN(url, user_agent="stellwerk-interop")
intruder = ckanapi.RemoteCKAN(url, apikey="falscher-schluessel", user_agent="stellwerk-interop")


def expect(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


organization = writer.action.organization_create(name="verbandsgemeinde-test", title="Verbandsgemeinde Test")
expect(organization["name"] == "verbandsgemeinde-test", "organization_create returns the organisation")

for number in range(12):
    writer.action.package_create(
        name=f"pegel-{number:02d}",
        title=f"Pegelstände Messstelle {number}",
        notes="Wasserstände im Viertelstundentakt.",
        owner_org="verbandsgemeinde-test",
        license_id="dl-by-de/2.0",
        tags=[{"name": "Pegel"}, {"name": "Hochwasser" if number % 3 == 0 else "Gewässer"}],
        groups=[{"name": "envi"}],
        resources=[{"name": "Messwerte", "url": f"https://example.org/pegel/{number}", "format": "CSV" if number % 2 else "JSON"}],
    )

found = anonymous.call_action(
    "package_search",
    {"q": "Pegelstand", "fq": "res_format:CSV", "facet.field": ["organization", "tags"], "rows": 4, "sort": "name asc"},
)
expect(found["count"] == 6, f"q/fq count 6, got {found['count']}")
expect([p["name"] for p in found["results"]] == ["pegel-01", "pegel-03", "pegel-05", "pegel-07"], "first page by name")
expect(found["facets"]["organization"] == {"verbandsgemeinde-test": 6}, "organization facet")
expect(found["facets"]["tags"]["Pegel"] == 6, "tag facet")
second = anonymous.call_action("package_search", {"q": "Pegelstand", "fq": "res_format:CSV", "rows": 4, "start": 4, "sort": "name asc"})
expect([p["name"] for p in second["results"]] == ["pegel-09", "pegel-11"], "second page")
flooded = anonymous.action.package_search(fq="tags:Hochwasser")
expect(flooded["count"] == 4, "fq on tags")

shown = anonymous.action.package_show(id="pegel-03")
expect(shown["organization"]["name"] == "verbandsgemeinde-test" and shown["num_resources"] == 1, "package_show")
patched = writer.action.package_patch(id="pegel-03", title="Pegel Nette-Brücke")
expect(patched["title"] == "Pegel Nette-Brücke" and len(patched["resources"]) == 1, "package_patch keeps resources")
resource = writer.action.resource_create(package_id="pegel-03", url="https://example.org/pegel/3.json", format="JSON")
expect(anonymous.action.resource_show(id=resource["id"])["format"] == "JSON", "resource_create and resource_show")
writer.action.package_delete(id="pegel-00")

try:
    anonymous.action.package_show(id="pegel-00")
    expect(False, "a deleted dataset is not found")
except ckanapi.NotFound:
    pass
try:
    anonymous.action.package_show(id="gibt-es-nicht")
    expect(False, "a missing dataset raises NotFound")
except ckanapi.NotFound:
    pass
try:
    intruder.action.package_create(name="eindringling", owner_org="verbandsgemeinde-test")
    expect(False, "a bad token raises NotAuthorized")
except ckanapi.NotAuthorized:
    pass
try:
    writer.action.package_create(name="Ungültig!", owner_org="verbandsgemeinde-test")
    expect(False, "invalid data raises ValidationError")
except ckanapi.ValidationError as error:
    expect("name" in error.error_dict, "the validation error names the field")
try:
    anonymous.action.package_search(fq="farbe:blau")
    expect(False, "an unknown search field raises SearchQueryError")
except ckanapi.SearchQueryError:
    pass

names = anonymous.action.package_list()
expect("pegel-00" not in names and "pegel-11" in names and len(names) == 11, "package_list")
organizations = anonymous.action.organization_list(all_fields=True)
expect(organizations[0]["package_count"] == 11, "organization_list all_fields counts")
shown_organization = anonymous.action.organization_show(id="verbandsgemeinde-test")
expect(shown_organization["package_count"] == 11, "organization_show counts the datasets, as CKAN does")
print("ok")
