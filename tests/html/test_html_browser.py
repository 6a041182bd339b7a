"""The HTML report in a real headless Chromium (Debian's, driven by chromedriver through Selenium),
served over loopback HTTP: no console errors, the table sorts and filters, a failing row expands
to the missing intermediate, nothing attacker-controlled executes; a screenshot is kept."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from origin_doctor.report.html import write_html
from tests.html.support import EVIL_NAME, lab_report, logs_document

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Without the background-networking switches Chromium reaches out to Google on start.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions", "--window-size=1280,1600")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site(lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("site")
    write_html(lab_report(lab, tmp_path_factory.mktemp("evil")), root / "report.html")
    write_html(logs_document(tmp_path_factory.mktemp("logs")), root / "logs.html")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.fail("Debian's chromium and chromium-driver are needed (scripts/debian-packages.txt)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium  # never let Selenium fetch a browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def visible_names(driver: WebDriver) -> list[str]:
    return [row.find_element(By.CSS_SELECTOR, "button.toggle").text
            for row in driver.find_elements(By.CSS_SELECTOR, "#targets tbody tr.row") if row.is_displayed()]


def test_report_in_chromium(browser: WebDriver, site: str) -> None:
    browser.get(site + "/report.html")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "shown").text.endswith("shown"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#targets tbody tr.row")
    total = len(rows)
    failed = [row.get_attribute("data-failed") for row in rows]
    assert failed == sorted(failed, reverse=True) and "0" in failed  # failing first

    def sort(column: str) -> None:
        browser.find_element(By.CSS_SELECTOR, f'#targets th[data-col="{column}"] button').click()

    sort("name")
    names = visible_names(browser)
    assert names == sorted(names) and len(names) == total
    sort("name")
    assert visible_names(browser) == sorted(names, reverse=True)
    sort("expiry")
    assert browser.find_element(By.CSS_SELECTOR, 'th[data-col="expiry"]').get_attribute("aria-sort") == "ascending"
    assert visible_names(browser)[0] == "expired.lab.test"

    search = browser.find_element(By.ID, "filter")
    search.send_keys("ws.lab")
    assert visible_names(browser) == ["ws.lab.test"]
    assert browser.find_element(By.ID, "shown").text == f"1 of {total} shown"
    search.clear()
    search.send_keys(" ")  # an input event with an empty query
    assert len(visible_names(browser)) == total
    browser.find_element(By.ID, "only-failing").click()
    assert sorted(visible_names(browser)) == sorted(
        row.find_element(By.CSS_SELECTOR, "button.toggle").text for row in rows if row.get_attribute("data-failed") == "1")
    assert "www.lab.test" not in visible_names(browser)
    browser.find_element(By.ID, "only-failing").click()

    ws_row = next(r for r in rows if r.find_element(By.CSS_SELECTOR, "button.toggle").text == "ws.lab.test")
    detail = browser.find_element(By.ID, "d-" + ws_row.get_attribute("data-key"))
    assert not detail.is_displayed()
    ws_row.find_element(By.CSS_SELECTOR, "button.toggle").click()
    assert detail.is_displayed()
    missing = detail.find_element(By.CSS_SELECTOR, "ol.chain li.cert.missing")
    assert missing.is_displayed() and "CN=Origin Doctor Lab CA R3" in missing.text
    assert "Missing intermediate" in missing.text
    assert detail.find_element(By.CSS_SELECTOR, "ol.stages li.st-fail").text.startswith("cert")
    copy = detail.find_element(By.CSS_SELECTOR, "button.copy")
    copy.click()
    WebDriverWait(browser, 5).until(lambda d: copy.text != "Copy")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.execute_script("arguments[0].scrollIntoView()", ws_row)
    assert browser.save_screenshot(str(ARTIFACTS / "html-report.png"))
    assert console_errors(browser) == []


def test_markup_in_certificates_never_executes(browser: WebDriver, site: str) -> None:
    browser.get(site + "/report.html")
    evil = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#targets tbody tr.row")
                if r.find_element(By.CSS_SELECTOR, "button.toggle").text == EVIL_NAME)
    evil.find_element(By.CSS_SELECTOR, "button.toggle").click()
    detail = browser.find_element(By.ID, "d-" + evil.get_attribute("data-key"))
    assert "<script>window.__pwned=1</script>" in detail.text.replace("\\", "")  # shown as text
    assert "<svg onload=window.__pwned=3>" in detail.text
    state = browser.execute_script(
        "return [typeof window.__pwned, document.scripts.length, document.images.length,"
        " document.querySelectorAll('[onerror],[onload]').length]")
    assert state == ["undefined", 1, 0, 0]
    assert console_errors(browser) == []


def test_logs_page_with_markup_in_a_path(browser: WebDriver, site: str) -> None:
    browser.get(site + "/logs.html")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg#chart rect")) == 21
    paths = browser.find_element(By.ID, "paths").text
    assert "/<script>window.__pwned=4</script><img src=x onerror=window.__pwned=5>" in paths
    assert browser.execute_script("return [typeof window.__pwned, document.images.length]") == ["undefined", 0]
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "html-logs.png"))
    assert console_errors(browser) == []


def test_console_error_detection_works(browser: WebDriver, site: str) -> None:
    """Negative control: the console check above would have seen an error."""
    browser.get(site + "/logs.html")
    browser.execute_script("console.error('deliberate')")
    assert any("deliberate" in entry["message"] for entry in console_errors(browser))
