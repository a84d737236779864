#!/usr/bin/python3
"""The assessment web application (`assess serve`) in a real browser: Debian's chromium, headless,
driven by chromedriver through Debian's python3-selenium.

One run plays both people against one server on 127.0.0.1:
  - the interviewer (desktop, 1280x800) logs in with the printed token, creates an assessment for
    a candidate whose name is markup, copies the one-time link, and watches the progress page;
  - the candidate (a phone, 390x844) opens the link, starts, answers every item until the end
    (one item's timer runs out on its page: the countdown says so and submits nothing; the answer
    sent then is called late);
  - the interviewer's page shows the answers as they come (Server-Sent Events, no reload), then
    the dashboard (the seed's table, SVG charts) on desktop, phone and print, and the comparison.
On every page: no horizontal overflow at the page's width, no Content-Security-Policy violation,
no script run from the candidate's name. The candidate's cookie does not open interviewer pages,
and the used link does not work in another browser. Screenshots of each page are kept in --out
(PNG, one per page and width) as the test's artifacts.

Usage: assess_web.py --assess BIN --items DIR --cache DIR --out DIR
Exit status 0 when every check passed; 1 with the failed check's message otherwise.
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# Generous: a fix item's grading runs Go in the sandbox; a loaded 2-core machine is slow.
WAIT_S = 300
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
# The items the run's bank holds (tests/assess/items): a choice, an output and a fix item. The
# choice item gets a timer short enough to run out while its page is open.
ITEMS = ["01-defer-loop", "03-worker-output", "06-fetch-leak"]
TIMED_ITEM, TIME_LIMIT_S = "01-defer-loop", 3
XSS_NAME = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


class Server:
    """`assess serve` on a free loopback port, with its own database."""

    def __init__(self, assess, bank, cache, db):
        self.proc = subprocess.Popen(
            [assess, "serve", "--listen", "127.0.0.1:0", "--db", db, "--bank", bank, "--cache", cache],
            stdout=subprocess.PIPE, stderr=sys.stderr, text=True, start_new_session=True)
        self.login_url = self.base = None
        deadline = time.monotonic() + WAIT_S
        while self.base is None:
            line = self.proc.stdout.readline()
            check(line or time.monotonic() < deadline, "assess serve exited before it served")
            check(line, "assess serve printed no 'serving on' line")
            if m := re.search(r"(http://\S+/login\?token=\S+)", line):
                self.login_url = m.group(1)
            if m := re.match(r"serving on (http://\S+)", line):
                self.base = m.group(1)
        check(self.login_url, "assess serve printed no interviewer login URL")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise Failure("assess serve did not stop within 60 s of SIGTERM")
        check(self.proc.returncode == 0, f"assess serve exited with status {self.proc.returncode}")


class Browser:
    """One chromium with its own profile (cookies), at a fixed viewport."""

    def __init__(self, name, metrics, out):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions", "--lang=en-US"]:
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(WAIT_S)
        self.name, self.out, self.shots = name, out, 0
        self.resize(metrics)

    def resize(self, metrics):
        self.metrics = metrics
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)

    def get(self, url):
        self.driver.get(url)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self):
        # One script call: a page being replaced has no element to go stale.
        return self.driver.execute_script("return document.body ? document.body.innerText : ''")

    def wait(self, what, cond):
        def ready(_):
            # An error page ends the wait at once: it will not turn into what we wait for.
            if m := re.search(r"^[45]\d\d [A-Z].*", self.text(), re.M):
                raise Failure(f"{self.name}: waiting for {what}, got {m.group(0)!r} at {self.driver.current_url}:\n{self.text()[:1000]}")
            return cond()
        try:
            return WebDriverWait(self.driver, WAIT_S, poll_frequency=0.2).until(ready)
        except TimeoutException:
            raise Failure(f"{self.name}: gave up waiting for {what}; page {self.driver.current_url}:\n{self.text()[:2000]}")

    def page_checks(self, label):
        """The checks every page gets, then a screenshot named after it."""
        d = self.driver
        width = d.execute_script("return window.innerWidth")
        scroll = d.execute_script("return document.documentElement.scrollWidth")
        check(scroll <= width + 1, f"{self.name}: {label}: the page is {scroll}px wide in a {width}px viewport")
        try:
            alert = d.switch_to.alert.text
            raise Failure(f"{self.name}: {label}: an alert opened: {alert}")
        except NoAlertPresentException:
            pass
        check(d.title != "pwned", f"{self.name}: {label}: the candidate's name ran as script")
        csp = [e["message"] for e in d.get_log("browser") if "Content Security Policy" in e["message"]]
        check(not csp, f"{self.name}: {label}: CSP violations: {csp}")
        self.shots += 1
        path = os.path.join(self.out, f"{self.name}-{self.shots:02d}-{label}-{self.metrics['width']}px.png")
        # The whole page, not only the viewport: the artifacts show what a reader scrolls through.
        size = d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def fetch_status(self, path):
        """The status of a same-origin GET from this browser's cookies (redirects not followed)."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {redirect: 'manual', credentials: 'same-origin'})"
            ".then(r => done(r.type === 'opaqueredirect' ? 302 : r.status), e => done(String(e)));", path)

    def quit(self):
        self.driver.quit()


def make_bank(items, into):
    bank = os.path.join(into, "bank")
    for item in ITEMS:
        shutil.copytree(os.path.join(items, "concurrency", item), os.path.join(bank, "concurrency", item))
    item_json = os.path.join(bank, "concurrency", TIMED_ITEM, "item.json")
    with open(item_json) as f:
        item = json.load(f)
    item["time_limit_s"] = TIME_LIMIT_S
    with open(item_json, "w") as f:
        json.dump(item, f)
    with open(os.path.join(bank, "rules.json"), "w") as f:
        f.write('{"rules": []}\n')
    return bank


def answer_current_item(c):
    """Answers the item on the candidate's page; returns its item number and whether it was late."""
    heading = c.find("h1").text
    seq = int(re.match(r"Item (\d+)", heading).group(1))
    late = bool(c.all("[data-remaining-ms]"))
    if late:
        # The countdown (app.js) reaches zero: it says so and submits nothing.
        c.wait("the time-up notice", lambda: c.find("[data-time-up]").is_displayed())
        check("up" in c.find(".timer").get_attribute("class"), f"item {seq}: the timer is not marked as run out")
        check(c.driver.current_url.endswith("/c/"), f"item {seq}: the countdown left the page")
        check(c.find("h1").text == heading, f"item {seq}: the countdown changed the page")
    if radios := c.all("input[type=radio][name=choice]"):
        radios[0].click()
    elif text := c.all("textarea[name=text]"):
        text[0].send_keys("0 1 2")
    elif number := c.all("input[name=text]"):
        number[0].send_keys("1")
    # A fix item's editable files are submitted as they are (a wrong answer, graded for real).
    c.page_checks(f"item{seq}")
    c.find("form.answer button[type=submit]").click()
    return seq, late


def run(args):
    work = tempfile.mkdtemp(prefix="assess-web-browser-")
    server = interviewer = candidate = other = None
    try:
        bank = make_bank(args.items, work)
        server = Server(args.assess, bank, args.cache, os.path.join(work, "assess.db"))
        interviewer = Browser("interviewer", DESKTOP, args.out)
        candidate = Browser("candidate", PHONE, args.out)

        # The interviewer logs in and creates an assessment.
        interviewer.get(server.login_url)
        interviewer.wait("the assessment list", lambda: interviewer.driver.current_url.endswith("/i/"))
        interviewer.page_checks("list-empty")
        interviewer.get(server.base + "/i/new")
        interviewer.find("input[name=handle]").send_keys("ada")
        interviewer.find("input[name=name]").send_keys(XSS_NAME)
        max_items = interviewer.find("input[name=max_items]")
        max_items.clear()
        max_items.send_keys("3")
        interviewer.page_checks("new")
        interviewer.find("form[action='/i/assessments'] button[type=submit]").click()
        link = interviewer.wait("the candidate link", lambda: interviewer.all("input.link-box")).pop()
        url = link.get_attribute("value")
        check(re.match(re.escape(server.base) + r"/c/[A-Za-z0-9_-]{20,}$", url), f"odd candidate link {url!r}")
        interviewer.page_checks("link")

        # The list shows the candidate's name as text.
        interviewer.get(server.base + "/i/")
        check(XSS_NAME in interviewer.text(), "the candidate's name is not shown as text in the list")
        interviewer.page_checks("list")

        # The interviewer watches; live updates connect.
        interviewer.get(server.base + "/i/assessments/1")
        status = lambda: interviewer.find("[data-field=status]").text
        interviewer.wait("live updates to connect", lambda: "off" not in status())
        interviewer.page_checks("watch-before")

        # The candidate opens the link: a preview does not use it; Start does.
        candidate.get(url)
        candidate.page_checks("start")
        candidate.find("form button[type=submit]").click()
        candidate.wait("the first item", lambda: candidate.all("form.answer"))
        check(candidate.fetch_status("/i/") != 200, "the candidate's cookie opens the interviewer's list")
        check(candidate.fetch_status("/i/assessments/1/report") != 200, "the candidate's cookie opens the report")

        # The link works once: another browser gets an error, not the assessment.
        other = Browser("other", PHONE, args.out)
        other.get(url)
        check("does not work" in other.text(), "a used link still shows the start page")
        other.quit()
        other = None

        # A reload keeps the candidate's place.
        first = candidate.find("h1").text
        candidate.driver.refresh()
        check(candidate.find("h1").text == first, "a reload moved the candidate to another item")

        answered = timed = 0
        while True:
            if "complete" in candidate.find("h1").text:
                candidate.page_checks("complete")
                break
            seq, late = answer_current_item(candidate)
            candidate.wait(f"the result of item {seq}", lambda: candidate.driver.current_url.endswith(f"/c/result/{seq}"))
            check(candidate.all(".verdict"), f"item {seq}: the result page shows no verdict")
            check(not late or "time ran out" in candidate.text(), f"item {seq}: a late answer is not called late")
            timed += late
            candidate.page_checks(f"result{seq}")
            answered += 1
            # The interviewer's page follows without a reload.
            interviewer.wait(f"the live count to reach {answered}",
                             lambda: interviewer.find("[data-field=answered]").text == str(answered))
            candidate.find("a.button[href='/c/']").click()
            candidate.wait("the next page", lambda: candidate.all("form.answer") or "complete" in candidate.find("h1").text)
        check(answered >= 1, "the candidate answered no item")
        check(timed == 1, f"{timed} items had a timer; the bank has one")
        interviewer.page_checks("watch-after")

        # The dashboard: desktop, phone, print.
        interviewer.get(server.base + "/i/assessments/1/report")
        body = interviewer.text()
        check("concurrency" in body, "the report has no concurrency row")
        check(interviewer.all("table"), "the report has no table")
        check(len(interviewer.all("svg")) >= 2, "the report has fewer than two SVG charts")
        interviewer.page_checks("report")
        interviewer.resize(PHONE)
        interviewer.driver.refresh()
        interviewer.page_checks("report")
        interviewer.resize(DESKTOP)
        interviewer.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        hidden = interviewer.driver.execute_script(
            "return [...document.querySelectorAll('nav, form')].every(e => getComputedStyle(e).display === 'none')")
        check(hidden, "printing the report still shows the navigation or forms")
        interviewer.page_checks("report-print")
        interviewer.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

        interviewer.get(server.base + "/i/compare?s=1")
        check("ada" in interviewer.text(), "the comparison does not name the candidate")
        interviewer.page_checks("compare")
        interviewer.resize(PHONE)
        interviewer.driver.refresh()
        interviewer.page_checks("compare")
        print(f"browser test passed: {answered} items answered; screenshots in {args.out}")
        return 0
    except Failure as e:
        print(f"browser test FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        for b in (interviewer, candidate, other):
            if b:
                b.quit()
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--assess", "--items", "--cache", "--out"):
        p.add_argument(flag, required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sys.exit(run(args))


if __name__ == "__main__":
    main()
