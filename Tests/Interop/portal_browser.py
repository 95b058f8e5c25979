"""Opens portal pages in headless Chromium (Debian's chromium and chromium-driver) through Selenium.

Usage: python portal_browser.py SCREENSHOT_FOLDER URL...
For each URL: the page must load, log no console error, and make no request outside loopback
(127.0.0.0/8); a screenshot is saved. Prints "ok" and exits 0 when all pages pass.
"""
import json
import os
import sys
from urllib.parse import urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

folder, urls = sys.argv[1], sys.argv[2:]
os.makedirs(folder, exist_ok=True)
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1024",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
failures = []
try:
    for index, url in enumerate(urls):
        driver.get(url)
        if driver.execute_script("return document.readyState") != "complete":
            failures.append(f"{url}: did not finish loading")
        if not driver.find_elements("css selector", "main h1"):
            failures.append(f"{url}: no main heading")
        for entry in driver.get_log("browser"):
            if entry["level"] in ("SEVERE", "ERROR"):
                failures.append(f"{url}: console: {entry['message']}")
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.requestWillBeSent":
                continue
            requested = message["params"]["request"]["url"]
            host = urlparse(requested).hostname or ""
            if requested.startswith(("data:", "about:")):
                continue
            if not host.startswith("127."):
                failures.append(f"{url}: request left loopback: {requested}")
        driver.save_screenshot(os.path.join(folder, f"portal-{index + 1}.png"))
finally:
    driver.quit()
for failure in failures:
    print("FAILED:", failure)
print("ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
