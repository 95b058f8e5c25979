"""Checks every page of the browser tests passes (browser_pages.py, console_flow.py): no console
error, and no request outside loopback (127.0.0.0/8). The driver must log "browser" and
"performance" (goog:loggingPrefs); each call reads the logs since the last one."""
import json
from urllib.parse import urlparse


def log_problems(driver, url):
    problems = []
    for entry in driver.get_log("browser"):
        if entry["level"] in ("SEVERE", "ERROR"):
            problems.append(f"{url}: console: {entry['message']}")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        requested = message["params"]["request"]["url"]
        if requested.startswith(("data:", "about:")):
            continue
        if not (urlparse(requested).hostname or "").startswith("127."):
            problems.append(f"{url}: request left loopback: {requested}")
    return problems
