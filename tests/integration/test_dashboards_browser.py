# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 16, acceptance 1-4: the three dashboards of ``watchkeeper.ops.ops_dashboard`` read back in Chromium.

A seeded state (dashboard_helpers: three jobs with local destinations, one older than its RPO, one destination whose
last integrity sweep found a really damaged backup, a window tomorrow, one that overran and one on time, the last
drill 100 days ago, one host at 96 % disk) is rendered twice: once without AWX (every button is an
``ansible-playbook`` command) and once with AWX templates (every button is a launch link). Each page is served over
loopback HTTP and read through the DOM (locators, ``inner_text``), never from the HTML source:

* acceptance 1: every number and state of the seed appears where the DOM contract puts it;
* acceptance 2: each quick action, window action, emergency action and procedure has the configured template's launch
  URL, or the command for its playbook (which exists in playbooks/);
* acceptance 3: axe-core finds no serious or critical violation on any page; screenshots at 375 and 1440 px wide (the
  375 px page does not scroll sideways). ``WK_DASHBOARD_SHOTS=<dir>`` copies the screenshots there (docs/dashboards.md:
  ``WK_DASHBOARD_SHOTS=docs/images python -m pytest tests/integration/test_dashboards_browser.py -k screenshots``);
* acceptance 4: every request the browser makes stays on the site's origin; no configured secret, private key or
  traceback appears in a page's text, its file, ``dashboard.json`` or the module's result.
"""

import datetime
import functools
import http.server
import json
import os
import re
import shutil
import threading

import pytest

import dashboard_helpers as dh
from helpers import CHROMIUM, CHROMIUM_ARGS, HERE, assert_ok, run_module

REPO = os.path.dirname(os.path.dirname(HERE))
PAGES = ("index.html", "maintenance.html", "dr.html")
WIDTHS = (375, 1440)


# --------------------------------------------------------------------------- fixtures

def _dashboard(seed, dest, awx=None):
    args = {"dest": dest, "ops_state": seed["ops_state"], "jobs": seed["jobs"], "destinations": seed["destinations"],
            "health_dir": seed["health_dir"],
            "inventory": dh.INVENTORY, "title": "Acme operations", "stale_after": "15m", "time_zone": "Europe/Berlin",
            "cache_dir": os.path.join(os.path.dirname(dest), "cache")}
    if awx:
        args["awx"] = awx
    return assert_ok(run_module("watchkeeper.ops.ops_dashboard", args, env={"WATCHKEEPER_NOW": dh.iso(seed["now"])}))


class Site(object):
    """One generated site served by ``http.server`` on loopback (a thread) for the module's tests."""

    def __init__(self, root, result):
        self.root = root
        self.result = result
        handler = functools.partial(_QuietHandler, directory=root)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, page):
        return "%s/%s" % (self.origin, page)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboards")
    now = dh.frozen_now()
    state = dh.seed_all(str(root), now)
    state.update(now=now, root=str(root))
    return state


@pytest.fixture(scope="module")
def sites(seed):
    root = seed["root"]
    plain = Site(os.path.join(root, "site"), _dashboard(seed, os.path.join(root, "site")))
    awx_config = {"url": dh.AWX_URL, "templates": dh.AWX_TEMPLATES}
    awx = Site(os.path.join(root, "site-awx"), _dashboard(seed, os.path.join(root, "site-awx"), awx_config))
    yield {"plain": plain, "awx": awx}
    plain.close()
    awx.close()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("%s is not installed: cannot render the dashboards (apt-get install chromium)" % CHROMIUM)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Opened(object):
    """A page in its own context with every request and console error recorded."""

    def __init__(self, browser_, site, name, width=1440, clock_at=None, javascript=True):
        self.site = site
        self.context = browser_.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript,
                                            timezone_id="America/New_York")
        self.page = self.context.new_page()
        self.requests, self.errors = [], []
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        if clock_at is not None:
            self.page.clock.install(time=clock_at)
        response = self.page.goto(site.url(name))
        assert response.status == 200, (name, response.status)
        self.page.wait_for_load_state("load")

    def text(self, selector):
        return self.page.locator(selector).inner_text().strip()

    def close(self):
        self.context.close()
        outside = [url for url in self.requests if not (url.startswith(self.site.origin + "/") or url.startswith("data:"))]
        assert not outside, "requests left the site: %s" % outside
        assert not self.errors, "console errors (CSP violations, script errors): %s" % self.errors


@pytest.fixture()
def opened(browser):
    pages = []

    def _open(site, name, **kwargs):
        pages.append(Opened(browser, site, name, **kwargs))
        return pages[-1]
    yield _open
    for one in pages:
        one.close()


def number(text):
    match = re.search(r"-?\d+(?:\.\d+)?", text)
    assert match, "no number in %r" % text
    return float(match.group(0))


# --------------------------------------------------------------------------- acceptance 1: the seed, read back

def test_operations_page_shows_the_seeded_state(sites, seed, opened):
    view = opened(sites["plain"], "index.html")
    page = view.page
    generated = page.locator("#generated [data-field=generated_at]")
    assert_time_shown(generated.inner_text(), dh.iso(seed["now"]), seconds=True)
    assert generated.get_attribute("datetime") in (None, dh.iso(seed["now"]))
    assert not page.locator("#stale").is_visible()
    # backups: exactly one job older than its RPO
    for job in dh.JOBS:
        row = page.locator("#backups tr[data-job=%s]" % job)
        assert row.count() == 1, job
        expected = "older than RPO" if job == dh.STALE_JOB else "within RPO"
        assert row.locator("[data-field=rpo_status]").inner_text().strip() == expected, job
        newest = min(age for ages in dh.JOBS[job][2].values() for age in ages)
        assert dh.iso(seed["now"] - newest)[:10] in row.locator("[data-field=completed_at]").inner_text(), job
        assert row.locator("[data-field=age]").inner_text().strip(), job
        assert row.locator("[data-field=size]").inner_text().strip(), job
        for dest in dh.JOBS[job][2]:
            status = row.locator("li[data-destination=%s] [data-field=status]" % dest).inner_text().strip()
            if (job, dest) == dh.DAMAGED:
                assert status == "failed", (job, dest, status)
            elif job == dh.STALE_JOB:
                assert status == "warning", (job, dest, status)
            else:
                assert status == "healthy", (job, dest, status)
    # resources: the full disk is critical and shows 96, the others are fine
    for host, (_cpu, _memory, disk) in dh.HOSTS.items():
        cell = page.locator("#resources tr[data-host=%s] td[data-field=disk]" % host).inner_text()
        assert number(cell) == pytest.approx(disk, abs=0.05), (host, cell)
        assert ("critical" in cell) == (host == dh.FULL_HOST), (host, cell)
        if host != dh.FULL_HOST:
            assert "ok" in cell, (host, cell)
        assert page.locator("#resources tr[data-host=%s] svg" % host).count() >= 1, host
    # overall: critical, with the reasons named
    assert "critical" in view.text("#overall [data-field=status]").lower()
    reasons = page.locator("#overall li[data-field=reason]").all_inner_texts()
    assert any(dh.STALE_JOB in r and "RPO" in r for r in reasons), reasons
    assert any(dh.FULL_HOST in r and "disk" in r for r in reasons), reasons
    assert any(dh.DAMAGED[1] in r and "damaged" in r for r in reasons), reasons
    assert not any(r.startswith("job app-sqlite") for r in reasons), reasons
    # maintenance: the last one (the overran reindex) and the next one (tomorrow)
    assert view.text("#last-maintenance [data-field=title]") == "Reindex"
    assert view.text("#next-maintenance [data-field=title]") == "Database upgrade"
    start = seed["windows"][dh.TOMORROW_ID]["start"]
    assert_time_shown(view.text("#next-maintenance [data-field=start]"), start)


def assert_time_shown(text, iso_time, seconds=False):
    """The text names the UTC date and hour:minute (and second) of ``iso_time``, in UTC (the page may format it its
    own way, e.g. ``2026-12-06 22:00:00 UTC``)."""
    when = datetime.datetime.fromisoformat(iso_time.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
    clock_text = when.strftime("%H:%M:%S" if seconds else "%H:%M")
    assert when.strftime("%Y-%m-%d") in text and clock_text in text and "UTC" in text, (text, iso_time)


def test_maintenance_page_shows_tomorrow_the_overrun_and_the_kpi(sites, seed, opened):
    view = opened(sites["plain"], "maintenance.html")
    page = view.page
    rows = page.locator("#scheduled tr[data-window]")
    assert rows.count() == 1
    row = page.locator("#scheduled tr[data-window=%s]" % dh.TOMORROW_ID)
    window = seed["windows"][dh.TOMORROW_ID]
    assert row.locator("[data-field=title]").inner_text().strip() == "Database upgrade"
    assert_time_shown(row.locator("[data-field=start_utc]").inner_text(), window["start"])
    assert row.locator("[data-field=start_local]").inner_text().strip()
    assert "2" in row.locator("[data-field=duration]").inner_text()
    assert row.locator("[data-field=impact]").inner_text().strip()
    countdown = row.locator("[data-field=countdown]").inner_text()
    assert re.search(r"\d", countdown), countdown
    outcomes = dict((w, page.locator("#history tr[data-window=%s] [data-field=outcome]" % w).inner_text().strip())
                    for w in (dh.OVERRAN_ID, dh.ON_TIME_ID))
    assert outcomes == {dh.OVERRAN_ID: "overran", dh.ON_TIME_ID: "on time"}
    assert page.locator("#history tr[data-window=%s]" % dh.TOMORROW_ID).count() == 0
    assert number(view.text("#kpi [data-field=within_window_pct]")) == 50.0


def test_dr_page_shows_objectives_damage_and_the_overdue_drill(sites, seed, opened):
    view = opened(sites["plain"], "dr.html")
    page = view.page
    # objectives: the targets, and the values the last drill achieved (1 h data loss, 401 s restore: both met);
    # the stale job's current exposure is the age of its newest backup (30 h)
    for job in dh.JOBS:
        row = page.locator("#objectives tr[data-job=%s]" % job)
        assert row.count() == 1, job
        values = dict((f, row.locator("[data-field=%s]" % f).inner_text().strip())
                      for f in ("rpo_target", "rpo_achieved", "rpo_verdict", "rto_target", "rto_achieved", "rto_verdict"))
        assert values == {"rpo_target": dh.JOBS[job][1], "rpo_achieved": "1h 00m", "rpo_verdict": "met", "rto_target": "2h",
                          "rto_achieved": "6m 41s", "rto_verdict": "met"}, (job, values)
        if row.locator("[data-field=current_rpo]").count():
            current = row.locator("[data-field=current_rpo]").inner_text()
            assert (current.strip() == "1d 6h") == (job == dh.STALE_JOB), (job, current)
    damaged = page.locator("#destinations tr[data-destination=%s]" % dh.DAMAGED[1])
    assert damaged.locator("[data-field=status]").inner_text().strip() == "failed"
    reason = damaged.locator("[data-field=reason]").inner_text()
    bad_id = seed["backups"][dh.DAMAGED][0]["backup_id"]
    assert "damaged" in reason and bad_id in reason, reason
    healthy = [d for job, spec in dh.JOBS.items() if job != dh.STALE_JOB for d in spec[2] if (job, d) != dh.DAMAGED]
    for dest in healthy:
        assert page.locator("#destinations tr[data-destination=%s] [data-field=status]" % dest).inner_text().strip() == "healthy"
    for dest in dh.JOBS[dh.STALE_JOB][2]:
        row = page.locator("#destinations tr[data-destination=%s]" % dest)
        assert row.locator("[data-field=status]").inner_text().strip() == "warning", dest
        assert "RPO" in row.locator("[data-field=reason]").inner_text(), dest
    assert number(view.text("#last-test [data-field=age_days]")) == 100
    assert view.text("#last-test [data-field=result]").lower() in ("met", "passed")
    assert dh.iso(seed["now"] - dh.DRILL_AGE)[:10] in view.text("#last-test [data-field=finished_at]")
    assert view.text("#next-test [data-field=state]") == "overdue"
    assert seed["drill"]["next_drill_due"][:10] in view.text("#next-test [data-field=due]")


def test_the_page_says_it_is_stale_on_its_own_and_works_without_javascript(sites, seed, opened):
    later = seed["now"] + datetime.timedelta(hours=1)
    stale = opened(sites["plain"], "index.html", clock_at=later)
    assert stale.page.locator("#stale").is_visible()
    assert "stale" in stale.text("#stale").lower() or "old" in stale.text("#stale").lower()
    plain = opened(sites["plain"], "dr.html", javascript=False)
    assert plain.text("#next-test [data-field=state]") == "overdue"
    assert number(plain.text("#last-test [data-field=age_days]")) == 100


# --------------------------------------------------------------------------- acceptance 2: the buttons

PROCEDURE_JOBS = {"database": ["app-db", "app-sqlite"], "files": ["uploads"], "full_system": list(dh.JOBS)}
EXPECTED_ACTIONS = {
    "index.html": ("#actions", dh.QUICK_ACTIONS),
    "maintenance.html": ("#scheduled tr[data-window=%s]" % dh.TOMORROW_ID, dh.WINDOW_ACTIONS),
    "dr.html": ("#procedures", dh.PROCEDURE_ACTIONS),
}


def _action_elements(page, name):
    """``[(key, element)]`` the contract expects on the page (each procedure row has both procedure actions)."""
    scope, keys = EXPECTED_ACTIONS[name]
    out = []
    for key in keys:
        found = page.locator("%s [data-action=%s]" % (scope, key))
        assert found.count() >= (3 if name == "dr.html" else 1), (name, key, found.count())
        out.extend((key, found.nth(i)) for i in range(found.count()))
    if name == "maintenance.html":
        for key in dh.EMERGENCY_ACTIONS:
            found = page.locator("#emergency [data-action=%s]" % key)
            assert found.count() == 1, (key, found.count())
            out.append((key, found))
    return out


def test_every_playbook_an_action_names_exists():
    for key, playbook in dh.ALL_ACTIONS.items():
        assert os.path.isfile(os.path.join(REPO, "playbooks", playbook)), (key, playbook)


@pytest.mark.parametrize("name", PAGES)
def test_without_awx_each_action_shows_its_ansible_playbook_command(sites, opened, name):
    view = opened(sites["plain"], name)
    for key, element in _action_elements(view.page, name):
        command = element.locator("[data-field=command]")
        assert command.count() == 1, key
        text = command.inner_text().strip()
        prefix = "ansible-playbook -i %s playbooks/%s" % (dh.INVENTORY, dh.ALL_ACTIONS[key])
        assert text == prefix or text.startswith(prefix + " "), (key, text)
        assert dh.AWX_URL not in (element.get_attribute("href") or ""), key
    assert view.page.locator("a[href^='%s']" % dh.AWX_URL).count() == 0
    if name == "dr.html":
        _check_documentation_links(view, sites["plain"])
        for procedure, jobs in PROCEDURE_JOBS.items():  # one Execute per job of the kind, each for its own job
            commands = view.page.locator("#procedures tr[data-procedure=%s] [data-action=recovery] [data-field=command]"
                                         % procedure).all_inner_texts()
            assert sorted(re.search(r"recovery_job=(\S+)", c).group(1) for c in commands) == sorted(jobs), (procedure, commands)


@pytest.mark.parametrize("name", PAGES)
def test_with_awx_each_action_links_to_its_template_launch(sites, opened, name):
    view = opened(sites["awx"], name)
    for key, element in _action_elements(view.page, name):
        link = element if element.evaluate("e => e.tagName") == "A" else element.locator("a[href]")
        assert link.count() == 1, key
        expected = "%s/api/v2/job_templates/%d/launch/" % (dh.AWX_URL, dh.AWX_TEMPLATES[key])
        assert link.get_attribute("href") == expected, (key, link.get_attribute("href"))
        assert element.locator("[data-field=command]").count() == 0, key
    if name == "dr.html":
        _check_documentation_links(view, sites["awx"])


def _check_documentation_links(view, site):
    """Documentation links open the by-hand runbook copied into the site (at least the database procedure has one)."""
    for procedure, jobs in PROCEDURE_JOBS.items():
        docs = view.page.locator("#procedures tr[data-procedure=%s] a[data-field=documentation]" % procedure)
        assert sorted(docs.nth(i).get_attribute("href") for i in range(docs.count())) == [
            "runbooks/%s.md" % job for job in sorted(jobs)], procedure
    links = view.page.locator("#procedures a[data-field=documentation]")
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        assert re.match(r"^runbooks/[A-Za-z0-9._-]+\.md$", href), href
        response = view.page.request.get(site.url(href))
        assert response.status == 200 and "backup" in response.text().lower(), (href, response.status)


# --------------------------------------------------------------------------- acceptance 3: axe-core and screenshots

def _serious(results):
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("flavour", ["plain", "awx"])
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_violation(sites, opened, name, flavour):
    from axe_playwright_python.sync_playwright import Axe
    view = opened(sites[flavour], name)
    results = Axe().run(view.page)
    assert _serious(results) == [], _serious(results)


@pytest.mark.parametrize("name", PAGES)
def test_screenshots_at_phone_and_desktop_width(sites, opened, name, tmp_path):
    target = os.environ.get("WK_DASHBOARD_SHOTS")
    for width in WIDTHS:
        view = opened(sites["plain"], name, width=width)
        scroll = view.page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, "%s at %d px is %d px wide (scrolls sideways)" % (name, width, scroll)
        shot = tmp_path / ("%s-%d.png" % (name[:-5], width))
        view.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10000, shot
        if target:
            os.makedirs(target, exist_ok=True)
            shutil.copyfile(str(shot), os.path.join(target, "dashboard-%s-%d.png" % (name[:-5], width)))


# --------------------------------------------------------------------------- acceptance 4: no request out, no secret

@pytest.mark.parametrize("flavour", ["plain", "awx"])
def test_no_secret_in_any_page_or_the_json(sites, seed, opened, flavour):
    site = sites[flavour]
    texts = {"result": json.dumps(dict((k, v) for k, v in site.result.items() if k not in ("stdout", "stderr", "invocation")),
                                  default=str)}
    with open(os.path.join(site.root, "dashboard.json")) as handle:
        texts["dashboard.json"] = handle.read()
    json.loads(texts["dashboard.json"])
    for name in PAGES:
        texts[name + " (DOM text)"] = opened(site, name).page.locator("body").inner_text()
        with open(os.path.join(site.root, name)) as handle:
            texts[name + " (file)"] = handle.read()
    for where, text in texts.items():
        for secret in dh.FORBIDDEN:
            assert secret not in text, (where, secret)
    # the secret-bearing configuration really was given (the check above is not vacuous)
    assert all(d[k] == v for d in seed["destinations"] for k, v in dh.SECRETS.items())


def test_every_request_stays_on_the_site(sites, opened):
    """Each page, both flavours, both widths: every request (documents, styles, scripts, images) is the site's."""
    seen = []
    for flavour in ("plain", "awx"):
        for name in PAGES:
            view = opened(sites[flavour], name, width=375)
            seen.extend(view.requests)
            view.page.mouse.wheel(0, 5000)
            view.page.wait_for_timeout(200)
    assert seen and all(url.startswith((sites["plain"].origin, sites["awx"].origin, "data:")) for url in seen), seen
