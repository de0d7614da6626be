# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The postmortem content, Markdown and HTML: KPIs and period by example, and any text (hypothesis) stays escaped in
both documents: no raw HTML, no broken table row, no way out of a code fence."""

import datetime
import html.parser
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident import model, postmortem, postmortem_html

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
PERSON = {"source": "person", "author": "alice"}


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def lifecycle(severity="SEV1", text="Checkout returns 502", title="Checkout down"):
    doc = model.new_incident({"title": title, "severity": severity, "components": ["checkout"], "summary": "nginx 502"},
                             T0, "inc-pm", {"source": "alert", "author": "CheckoutDown"}, {"text": text})
    doc, _fields = model.apply(doc, "acknowledged", {}, at(4), PERSON)
    doc, _fields = model.apply(doc, "update", {}, at(6), {"source": "runbook", "author": "service_restart.yml"},
                               {"text": "restarted app on web-1", "data": {"host": "web-1"}})
    doc, _fields = model.apply(doc, "mitigated", {}, at(9), PERSON)
    doc, _fields = model.apply(doc, "resolved", {"customer_impact": True}, at(40), PERSON)
    return doc


class Collector(html.parser.HTMLParser):
    """Tags, attributes and text of a page (what a browser would build)."""

    def __init__(self):
        super(Collector, self).__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    collector = Collector()
    collector.feed(page)
    return collector


def test_kpis_and_period_of_a_resolved_sev1():
    pm = postmortem.build(lifecycle(), at(60))
    kpis = dict((k["name"], k) for k in pm["kpis"])
    assert (kpis["time_to_acknowledge"]["seconds"], kpis["time_to_acknowledge"]["text"], kpis["time_to_acknowledge"]["met"]) == \
        (240, "4m 00s", True)
    assert (kpis["time_to_mitigate"]["seconds"], kpis["time_to_mitigate"]["met"]) == (540, None)
    assert (kpis["time_to_resolve"]["seconds"], kpis["time_to_resolve"]["text"], kpis["time_to_resolve"]["met"]) == \
        (2400, "40m 00s", False)
    assert pm["period"] == {"start": "2026-12-05T09:30:00Z", "end": "2026-12-05T10:40:00Z"}
    assert [e["source"] for e in pm["timeline"]] == ["alert", "person", "runbook", "person", "person", "person"]
    assert pm["impact"]["customer_impact"] and pm["backup_runs"] is None and pm["logs"] is None


def test_unresolved_incident_kpis_are_pending_and_breaches_show():
    doc = model.new_incident({"title": "DB down", "severity": "SEV1"}, T0, "inc-open", PERSON)
    pm = postmortem.build(doc, at(20), margin_s=0)
    kpis = dict((k["name"], k) for k in pm["kpis"])
    assert kpis["time_to_acknowledge"]["text"] == "pending" and kpis["time_to_acknowledge"]["met"] is False  # 20 > 15 min
    assert kpis["time_to_resolve"]["met"] is None  # 20 min < 30 min: still within the target
    assert pm["period"] == {"start": "2026-12-05T10:00:00Z", "end": "2026-12-05T10:20:00Z"}
    sev2 = model.new_incident({"title": "slow", "severity": "SEV2"}, T0, "inc-sev2", PERSON)
    assert postmortem.incident_kpis(sev2, at(200))[0]["target_s"] is None


def test_backup_runs_overlapping_the_period_and_audit_runs_grouped():
    runs = [{"job": "db", "backup_id": "a", "status": "ok", "started": "2026-12-05T09:00:00Z", "finished": "2026-12-05T09:29:59Z",
             "duration_s": 1799},
            {"job": "db", "backup_id": "b", "status": "failed", "started": "2026-12-05T09:20:00Z",
             "finished": "2026-12-05T09:31:00Z", "duration_s": 660, "msg": "disk full"},
            {"job": "files", "backup_id": "c", "status": "ok", "started": "2026-12-05T10:39:00Z", "finished": "2026-12-05T10:45:00Z"},
            {"job": "files", "backup_id": "d", "status": "ok", "started": "2026-12-05T10:41:00Z", "finished": "2026-12-05T10:42:00Z"}]
    rows = [{"run": "r1", "event": "play_start", "ts": "2026-12-05T10:05:00Z", "playbook": "service_restart.yml", "user": "bob"},
            {"run": "r1", "event": "task", "ts": "2026-12-05T10:05:30Z", "host": "web-1", "outcome": "ok"},
            {"run": "r1", "event": "task", "ts": "2026-12-05T10:06:00Z", "host": "web-2", "outcome": "failed"},
            {"run": "r2", "event": "play_start", "ts": "2026-12-05T10:01:00Z", "playbook": "incident_escalate.yml",
             "awx_user": "scheduler", "user": "awx"}]
    pm = postmortem.build(lifecycle(), at(60), runs=runs, audit_rows=rows)
    assert [r["backup_id"] for r in pm["backup_runs"]] == ["b", "c"]
    assert [(r["run"], r["playbook"], r["user"], r["tasks"], r["failed"], r["hosts"]) for r in pm["audit_runs"]] == [
        ("r2", "incident_escalate.yml", "scheduler", 0, 0, []), ("r1", "service_restart.yml", "bob", 2, 1, ["web-1", "web-2"])]
    page = postmortem_html.render(pm)
    assert 'data-backup="b"' in page and "disk full" in page and 'data-run="r1"' in page
    text = postmortem.markdown(pm)
    assert "| db | b | failed | 2026-12-05T09:20:00Z | 11m 00s | disk full |" in text


def test_markdown_sections_and_table_rows():
    text = postmortem.markdown(postmortem.build(lifecycle(), at(60), runs=[]))
    for heading in ("# Postmortem: Checkout down", "## Summary", "## Impact", "## Key figures", "## Timeline",
                    "## Runs in the period", "## Root cause", "## Action items"):
        assert heading + "\n" in text, heading
    assert "| Time to acknowledge | 4m 00s | 15m 00s | yes |" in text
    assert "| Time to resolve | 40m 00s | 30m 00s | no |" in text
    assert '| 2026-12-05T10:06:00Z | runbook | service_restart.yml | restarted app on web-1 | {"host": "web-1"} |' in text
    assert "No backup run in the period." in text


def test_log_excerpt_in_both_documents():
    logs = {"pattern": "502", "counts": {"total": 3}, "truncated": True,
            "matches": [{"timestamp": "2026-12-05T10:01:00Z", "host": "web-1", "program": "nginx", "line": "GET / 502 ```x"},
                        {"timestamp": "2026-12-05T10:00:30Z", "host": "web-1", "program": "nginx", "line": "GET /a 502"}]}
    pm = postmortem.build(lifecycle(), at(60), logs=logs)
    assert [m["timestamp"] for m in pm["logs"]["matches"]] == ["2026-12-05T10:00:30Z", "2026-12-05T10:01:00Z"]
    text = postmortem.markdown(pm)
    assert "Pattern 502: 3 matching line(s), the newest 2 shown." in text
    assert "````text\n2026-12-05T10:00:30Z web-1: GET /a 502\n" in text and "\n````\n" in text
    assert "2026-12-05T10:01:00Z web-1: GET / 502 ```x" in postmortem_html.render(pm)


def test_durations():
    assert [postmortem.duration(s) for s in (None, 0, 59, 60, 3599, 3600, 86399, 90000)] == [
        "n/a", "0s", "59s", "1m 00s", "59m 59s", "1h 00m", "23h 59m", "1d 01h"]


TEXT = st.lists(st.sampled_from(list("ab <>&\"'|`*_#[]()\n\t\\") + ["</script>", "<img src=x>", "```", "é"]),
                min_size=1, max_size=30).map("".join).filter(lambda t: t.strip())


@settings(max_examples=150, deadline=None)
@given(title=TEXT, text=TEXT, author=TEXT, data_value=TEXT)
def test_any_text_stays_escaped(title, text, author, data_value):
    doc = model.new_incident({"title": title, "severity": "SEV2", "summary": text}, T0, "inc-esc", PERSON)
    doc, _fields = model.apply(doc, "update", {}, at(1), {"source": "person", "author": author},
                               {"text": text, "data": {"k": data_value}})
    logs = {"pattern": text, "matches": [{"timestamp": "2026-12-05T10:00:00Z", "host": "h", "program": "p", "line": text}]}
    pm = postmortem.build(doc, at(5), logs=logs, audit_rows=[{"run": text, "playbook": title, "ts": "2026-12-05T10:00:00Z"}])
    page = postmortem_html.render(pm)
    parsed = parse(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "main", "header", "div", "h1", "h2", "h3", "span", "dl", "dt",
               "dd", "section", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "code", "pre"}
    assert set(tag for tag, _attrs in parsed.tags) <= allowed
    assert not any(name.startswith("on") or name == "src" for _tag, attrs in parsed.tags for name in attrs)
    shown = "".join(parsed.text)
    assert " ".join(text.split()) in " ".join(shown.split())
    rows = [tag for tag, attrs in parsed.tags if tag == "tr" and "data-entry" in attrs]
    assert len(rows) == len(doc["timeline"])
    lines = postmortem.markdown(pm).split("\n")
    fence_open = [i for i, line in enumerate(lines) if re.match(r"^`{3,}text$", line)]
    assert len(fence_open) == 1
    fence = lines[fence_open[0]][:-4]
    assert lines[fence_open[0] + 2] == fence  # one log line, then the closing fence: nothing escaped the block
    prose = lines[:fence_open[0]] + lines[fence_open[0] + 3:]  # raw text is fine inside the fence only
    assert not re.search(r"<[a-zA-Z/!]", "\n".join(prose))
    table = [line for line in lines if line.startswith("| 2026-12-05T10:01:00Z")]
    assert len(table) == 1 and len(re.findall(r"(?<!\\)(?:\\\\)*\|", table[0])) == 6  # five cells, none broken
