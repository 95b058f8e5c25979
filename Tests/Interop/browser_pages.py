"""Opens pages of the platform's services in headless Chromium (Debian's chromium and chromium-driver)
through Selenium.

Usage: python browser_pages.py SCREENSHOT_FOLDER NAME URL...
For each URL: the page must load, have a main heading, log no console error, make no request outside
loopback (127.0.0.0/8), and fit a 390 px wide window without scrolling sideways, where every visible
word (two characters or more) of an inline chart must be drawn at least 11 px high; screenshots
NAME-N.png (1280 px wide) and NAME-N-narrow.png (390 px) are saved. Every img and svg[role=img] must
have a text alternative. Prints "ok" and exits 0 when all pages pass.
"""
import os
import sys

from browser_checks import log_problems
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

folder, name, urls = sys.argv[1], sys.argv[2], sys.argv[3:]
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
        failures += log_problems(driver, url)
        for image in driver.find_elements("css selector", "img"):
            # alt="" only for a decorative image inside a link that names itself with text (a logo
            # beside the site's title); every other image needs its text.
            decorative = image.get_attribute("alt") == "" and driver.execute_script(
                "const a = arguments[0].closest('a'); return !!a && a.textContent.trim().length > 0;", image)
            if not (image.get_attribute("alt") or "").strip() and not decorative:
                failures.append(f"{url}: an img without alt text")
        for graphic in driver.find_elements("css selector", "svg[role=img]"):
            labelled = (graphic.get_attribute("aria-labelledby") or "").split()
            if not labelled or not all(driver.find_elements("id", part) for part in labelled):
                failures.append(f"{url}: an svg[role=img] without its title and description")
        driver.save_screenshot(os.path.join(folder, f"{name}-{index + 1}.png"))
        driver.set_window_size(390, 900)
        wide = driver.execute_script("return document.documentElement.scrollWidth")
        if wide > 390:
            failures.append(f"{url}: {wide} px wide in a 390 px window")
        small = driver.execute_script("""
            const small = [];
            for (const graphic of document.querySelectorAll("svg[role=img]")) {
                const box = graphic.getBoundingClientRect();
                const view = graphic.viewBox && graphic.viewBox.baseVal;
                if (box.width === 0 || !view || view.width === 0) continue;
                for (const text of graphic.querySelectorAll("text")) {
                    const words = text.textContent.trim();
                    const size = parseFloat(getComputedStyle(text).fontSize) * box.width / view.width;
                    if (words.length > 1 && size < 11) small.push(words + " (" + size.toFixed(1) + " px)");
                }
            }
            return small;""")
        for words in small[:5]:
            failures.append(f"{url}: at 390 px a chart's words are too small to read: {words}")
        driver.save_screenshot(os.path.join(folder, f"{name}-{index + 1}-narrow.png"))
        driver.set_window_size(1280, 1024)
finally:
    driver.quit()
for failure in failures:
    print("FAILED:", failure)
print("ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
