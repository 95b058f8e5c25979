"""Drives the orchestrator's web console in headless Chromium (Debian's chromium and chromium-driver)
through Selenium, as two people would: the one who requested a promotion signs in, sees that she
cannot decide on it and finds no button to, and signs out; an approver signs in, finds the promotion
waiting on the overview, reads its gates and plan, and approves it with a reason.

Usage: python console_flow.py SCREENSHOT_FOLDER BASE_URL REQUESTER_TOKEN APPROVER_TOKEN PROMOTION_ID
Every page must have a main heading, a label for every visible input, log no console error, make no
request outside loopback (127.0.0.0/8), and fit a 390 px wide window without scrolling sideways;
screenshots console-NAME.png (1280 px wide) and console-NAME-narrow.png are saved. Prints "ok" and
exits 0 when all steps pass. The orchestrator's certificate is from its own CA, which this browser
does not know: certificate errors are accepted, on loopback only.
"""
import os
import sys
from urllib.parse import urlparse

from browser_checks import log_problems
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

folder, base, requester, approver, promotion = sys.argv[1:6]
os.makedirs(folder, exist_ok=True)
if not (urlparse(base).hostname or "").startswith("127."):
    sys.exit(f"{base} is not a loopback address")
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1024",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps",
                 "--ignore-certificate-errors"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
options.set_capability("acceptInsecureCerts", True)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
failures = []


def css(selector):
    return driver.find_elements("css selector", selector)


def text():
    return driver.find_element("css selector", "main").text


def check(name):
    """The checks every page passes, and its screenshots."""
    url = driver.current_url
    if not css("main h1"):
        failures.append(f"{url}: no main heading")
    for field in css("input:not([type=hidden])"):
        identifier = field.get_attribute("id")
        if not identifier or not css(f"label[for='{identifier}']"):
            failures.append(f"{url}: an input without a label")
    failures.extend(log_problems(driver, url))
    driver.save_screenshot(os.path.join(folder, f"console-{name}.png"))
    driver.set_window_size(390, 900)
    wide = driver.execute_script("return document.documentElement.scrollWidth")
    if wide > 390:
        failures.append(f"{url}: {wide} px wide in a 390 px window")
    driver.save_screenshot(os.path.join(folder, f"console-{name}-narrow.png"))
    driver.set_window_size(1280, 1024)


def follow(element):
    """Clicks `element` and waits until the page it leads to has replaced this one."""
    page = driver.find_element("tag name", "html")
    element.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(page))


def expect(condition, what):
    if not condition:
        failures.append(f"{driver.current_url}: {what}")


def sign_in(token, name):
    driver.get(base + "/console")
    expect(driver.current_url.endswith("/console/sign-in"), "an anonymous visit is not sent to sign in")
    check(f"{name}-sign-in")
    driver.find_element("id", "token").send_keys(token)
    follow(driver.find_element("css selector", "form[action='/console/sign-in'] button"))
    expect(driver.find_element("css selector", "main h1").text == "Übersicht", "no overview after signing in")


def sign_out():
    follow(driver.find_element("css selector", "form.signout button"))
    expect(driver.current_url.endswith("/console/sign-in"), "signing out does not lead to the sign-in page")
    driver.get(base + "/console")
    expect(driver.current_url.endswith("/console/sign-in"), "the session outlives signing out")


try:
    # The requester: her own promotion, with no way to decide on it.
    sign_in(requester, "requester")
    driver.get(f"{base}/console/promotions/{promotion}")
    expect("können nicht selbst über sie entscheiden" in text(), "no four-eyes notice for the requester")
    expect(not css("button[value=approve]"), "the requester is offered the approve button")
    check("requester-promotion")
    sign_out()

    # The approver: the promotion waits on the overview; its gates and plan; approved with a reason.
    sign_in(approver, "approver")
    expect(promotion in text(), "the waiting promotion is not on the overview")
    check("overview")
    follow(driver.find_element("link text", promotion))
    expect("Änderungen des Plans" in text(), "the plan's changes are not shown")
    expect(len(css("main table")) >= 4, "gates, sites, decisions and plan are not all shown")
    check("promotion")
    driver.find_element("id", "reason").send_keys("Sandbox im Browser geprüft")
    follow(driver.find_element("css selector", "button[value=approve]"))
    expect("Ihre Freigabe ist vermerkt." in text(), "the approval is not confirmed")
    expect("Sandbox im Browser geprüft" in text(), "the decision's reason is not shown")
    check("approved")

    # English.
    driver.get(base + "/console?lang=en")
    expect(driver.find_element("css selector", "main h1").text == "Overview", "no English overview")
    check("overview-en")
    sign_out()
finally:
    driver.quit()
for failure in failures:
    print("FAILED:", failure)
print("ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
