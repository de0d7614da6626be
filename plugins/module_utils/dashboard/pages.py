# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three pages of the story's mock-ups, rendered from the dashboard document (``model.build``). Pure.

Every value sits in an element with ``data-field``; rows carry ``data-job``, ``data-host``, ``data-destination``,
``data-window``, ``data-procedure``; buttons ``data-action`` (see docs/dashboards.md)."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.dashboard.page_parts import (
    badge, button, e, field, layout, size, table, trend, utc)

LEVEL_TEXT = {"ok": "ok", "warning": "warning", "critical": "critical", "unknown": "unknown"}


def _pct(metric):
    if metric["value"] is None:
        return field("value", "n/a") + " " + badge("unknown", field="level")
    return "%s %s" % (field("value", "%.1f %%" % metric["value"]), badge(metric["level"], LEVEL_TEXT[metric["level"]], field="level"))


def _window_brief(section_id, heading, window, when_field):
    if not window:
        return '<div id="%s"><h3>%s</h3><p>%s</p></div>' % (section_id, heading, field("title", "none"))
    return ('<div id="%s"><h3>%s</h3><p>%s<br>%s %s</p></div>'
            % (section_id, heading, field("title", window["title"]), utc("start", window.get(when_field)),
               badge(window.get("outcome") or window.get("status"), window.get("outcome_label") or window.get("status"),
                     field="state")))


def index(doc):
    status = doc["status"]
    reasons = "".join('<li data-field="reason">%s</li>' % e(r) for r in status["reasons"])
    overall = ('<section id="overall" aria-labelledby="h-overall"><h2 id="h-overall">System status</h2><p>%s</p>%s</section>'
               % (badge(status["level"], status["label"]),
                  '<ul class="reasons">%s</ul>' % reasons if reasons else '<p>All checks are green.</p>'))
    maint = doc["maintenance"]
    windows = ('<section aria-labelledby="h-maint"><h2 id="h-maint">Maintenance</h2>%s%s</section>'
               % (_window_brief("last-maintenance", "Last maintenance", maint["last"], "start_utc"),
                  _window_brief("next-maintenance", "Next maintenance", maint["next"], "start_utc")))
    acts = "".join("<li>%s</li>" % button(a) for a in doc["actions"])
    actions = '<section id="actions" aria-labelledby="h-actions"><h2 id="h-actions">Quick actions</h2><ul class="actions">%s</ul></section>' % acts
    host_rows = []
    for host in doc["hosts"]:
        cells = "".join('<td data-field="%s">%s %s</td>' % (m, _pct(host[m]), trend(host[m]["trend"], "%s %s" % (host["host"], m)))
                        for m in ("cpu", "memory", "disk"))
        host_rows.append('<tr data-host="%s"><th scope="row">%s</th>%s<td>%s %s</td></tr>'
                         % (e(host["host"]), e(host["host"]), cells, badge(host["status"], field="status"),
                            utc("checked_at", host["checked_at"])))
    thresholds = doc["thresholds"]
    resources = ('<section id="resources" aria-labelledby="h-res"><h2 id="h-res">Resource usage</h2>%s<p class="muted">'
                 'Warning from %s %% CPU, %s %% memory, %s %% disk; critical from %s %%, %s %%, %s %%.</p></section>'
                 % (table("Resource usage per host", ["Host", "CPU", "Memory", "Disk (fullest mount)", "State"], host_rows)
                    if host_rows else "<p>No health readings yet (run playbooks/health.yml or dashboards.yml).</p>",
                    thresholds["cpu"]["warning"], thresholds["memory"]["warning"], thresholds["disk"]["warning"],
                    thresholds["cpu"]["critical"], thresholds["memory"]["critical"], thresholds["disk"]["critical"]))
    job_rows = []
    for row in doc["backups"]:
        dests = "".join('<li data-destination="%s">%s %s%s</li>' % (
            e(d["name"]), e(d["name"]), badge(d["status"], field="status"),
            ' <span data-field="reason">%s</span>' % e("; ".join(d["reasons"])) if d["reasons"] else "")
            for d in row["destinations"])
        age = field("age", row["age"], extra=' data-age-from="%s"' % e(row["created_at"]) if row["created_at"] else "")
        rpo_state = badge("ok" if row["within_rpo"] else "critical", row["rpo_status"], field="rpo_status")
        job_rows.append('<tr data-job="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s<br>%s</td><td>%s</td>'
                        '<td><ul class="reasons">%s</ul></td></tr>'
                        % (e(row["job"]), e(row["job"]), utc("completed_at", row["completed_at"]), field("size", size(row["size_bytes"])),
                           age, rpo_state, field("rpo", row["rpo"]), dests))
    backups = ('<section id="backups" aria-labelledby="h-backups"><h2 id="h-backups">Backup status</h2>%s</section>'
               % (table("Newest valid backup of each job", ["Job", "Completed", "Size", "Age", "RPO", "Destinations"], job_rows)
                  if job_rows else "<p>No backup job configured.</p>"))
    incidents = ""
    if doc["incidents"]:
        items = "".join('<li data-incident="%s">%s %s %s</li>' % (
            e(i["id"]), badge("critical" if i["severity"] == "SEV1" else "warning", i["severity"], field="severity"),
            field("title", i["title"]), field("state", i["status"])) for i in doc["incidents"])
        incidents = '<section id="incidents" aria-labelledby="h-inc"><h2 id="h-inc">Open incidents</h2><ul>%s</ul></section>' % items
    alerts = ""
    if doc["alerts"] or doc["alerts_error"]:
        items = "".join('<li data-alert="%s">%s %s%s, since %s%s</li>' % (
            e(a["name"]), badge(a["level"], a["severity"], field="severity"), field("name", a["name"]),
            " on %s" % field("instance", a["instance"]) if a["instance"] else "", utc("since", a["since"]),
            ": %s" % field("summary", a["summary"]) if a["summary"] else "") for a in doc["alerts"])
        error = '<p>%s</p>' % field("alerts_error", doc["alerts_error"]) if doc["alerts_error"] else ""
        alerts = ('<section id="alerts" aria-labelledby="h-alerts"><h2 id="h-alerts">Firing alerts</h2>%s%s</section>'
                  % (error, '<ul class="reasons">%s</ul>' % items if items else ""))
    return layout(doc, "index.html", overall + incidents + alerts + windows + actions + resources + backups)


def maintenance(doc):
    maint = doc["maintenance"]
    rows = []
    for w in maint["scheduled"]:
        buttons = "".join("<li>%s</li>" % button(a) for a in w["actions"])
        rows.append('<tr data-window="%s"><th scope="row">%s<br><span class="muted">%s</span></th><td>%s<br>'
                    '<span data-field="start_local" data-local-time="%s">%s</span></td><td>%s</td><td>%s</td>'
                    '<td><span data-field="countdown" data-countdown-to="%s">%s</span></td><td><ul class="actions">%s</ul></td></tr>'
                    % (e(w["id"]), field("title", w["title"]), e(w["id"]), utc("start_utc", w["start_utc"]), e(w["start_utc"]),
                       e(w["start_local"]), field("duration", w["duration"]), field("impact", w["impact_label"]),
                       e(w["start_utc"]), e("in %s" % _human_s(w["starts_in_s"]) if w["starts_in_s"] > 0 else "due now"), buttons))
    active = "".join('<li data-window="%s">%s %s, %s</li>' % (
        e(w["id"]), field("title", w["title"]), badge("warning" if w["overrun_s"] else "ok",
                                                      "overrunning" if w["overrun_s"] else w["status"], field="state"),
        utc("end_utc", w["end_utc"])) for w in maint["active"])
    scheduled = ('<section id="scheduled" aria-labelledby="h-sched"><h2 id="h-sched">Scheduled maintenance</h2>%s%s</section>'
                 % ('<h3>In progress</h3><ul>%s</ul>' % active if active else "",
                    table("Scheduled windows", ["Window", "Start (UTC, your time)", "Duration", "Impact", "Countdown", "Actions"], rows)
                    if rows else "<p>No window scheduled.</p>"))
    hist_rows = ['<tr data-window="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s%s</td></tr>'
                 % (e(h["id"]), field("title", h["title"]), utc("start_utc", h["start_utc"]), utc("finished_at", h["finished_at"]),
                    badge(h["outcome"], h["outcome_label"], field="outcome"),
                    " (%s past the end)" % e(h["overran"]) if h["overran"] else "") for h in maint["history"]]
    kpi = maint["kpi"]
    pct = kpi["within_window_pct"]
    kpi_html = ('<p id="kpi">Completed within the window: %s against a target of %s %% %s (%d on time, %d overran, %d cancelled; '
                'last 90 days)</p>' % (field("within_window_pct", "n/a" if pct is None else "%.1f %%" % pct), e(kpi["target_pct"]),
                                       badge("not_tested" if kpi["meets_target"] is None else "met" if kpi["meets_target"] else "missed",
                                             "no data" if kpi["meets_target"] is None else "met" if kpi["meets_target"] else "below target",
                                             field="kpi_state"),
                                       kpi["counts"]["on_time"], kpi["counts"]["overran"], kpi["counts"]["cancelled"]))
    history = ('<section id="history" aria-labelledby="h-hist"><h2 id="h-hist">Maintenance history</h2>%s%s</section>'
               % (kpi_html, table("Windows of the last 90 days", ["Window", "Start", "Finished", "Outcome"], hist_rows)
                  if hist_rows else "<p>No window finished in the last 90 days.</p>"))
    emergency = ('<section id="emergency" aria-labelledby="h-em"><h2 id="h-em">Emergency actions</h2><ul class="actions">%s</ul></section>'
                 % "".join("<li>%s</li>" % button(a) for a in maint["emergency"]))
    return layout(doc, "maintenance.html", scheduled + history + emergency)


def _human_s(seconds):
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return "%d d %d h" % (days, hours) if days else "%d h %d min" % (hours, rest // 60) if hours else "%d min" % (rest // 60)


def dr(doc):
    rec = doc["dr"]
    obj_rows = ['<tr data-job="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                '<td>%s</td></tr>'
                % (e(o["job"]), e(o["job"]), field("rpo_target", o["rpo_target"]), field("rpo_achieved", o["rpo_achieved"]),
                   badge(o["rpo_verdict"], field="rpo_verdict"), field("rto_target", o["rto_target"]),
                   field("rto_achieved", o["rto_achieved"]), badge(o["rto_verdict"], field="rto_verdict"),
                   "%s %s" % (field("current_rpo", o["current_rpo"]),
                              badge("ok" if o["current_rpo_status"] == "within RPO" else "critical", o["current_rpo_status"],
                                    field="current_rpo_status"))) for o in rec["objectives"]]
    objectives = ('<section id="objectives" aria-labelledby="h-obj"><h2 id="h-obj">Recovery objectives</h2>%s</section>'
                  % table("Objectives, the values achieved in the newest drill of each job, and the data at risk now",
                          ["Job", "RPO target", "RPO in the last drill", "Drill RPO", "RTO target", "RTO in the last drill", "Drill RTO",
                           "Newest backup now"], obj_rows))
    dest_rows = ['<tr data-destination="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td></tr>'
                 % (e(d["name"]), e(d["name"]), e(d["type"]), badge(d["status"], field="status"),
                    field("reason", "; ".join(d["reasons"]) or "newest copies within their RPO, last sweep clean"))
                 for d in rec["destinations"]]
    dests = ('<section id="destinations" aria-labelledby="h-dest"><h2 id="h-dest">Backup locations</h2>%s</section>'
             % table("Health of each destination", ["Destination", "Type", "State", "Reason"], dest_rows))
    proc_rows = []
    for p in rec["procedures"]:
        test = button(p["test"]) if p["test"] else "no job of this kind"
        execute = "".join("<li>%s</li>" % button(x, "Execute (%s)" % x["job"]) for x in p["execute"]) or "<li>no job of this kind</li>"
        docs = "".join('<li><a data-field="documentation" href="%s">%s by hand</a></li>' % (e(d["href"]), e(d["job"]))
                       for d in p["documentation"]) or "<li>no runbook yet: the next drill writes one per job</li>"
        proc_rows.append('<tr data-procedure="%s"><th scope="row">%s</th><td>%s</td><td><ul class="reasons">%s</ul></td>'
                         '<td><ul class="reasons">%s</ul></td></tr>' % (e(p["kind"]), e(p["label"]), test, execute, docs))
    procedures = ('<section id="procedures" aria-labelledby="h-proc"><h2 id="h-proc">Recovery procedures</h2>%s</section>'
                  % table("Test, execute and documentation per kind", ["Procedure", "Test", "Execute", "Documentation"], proc_rows))
    last, nxt = rec["last_test"], rec["next_test"]
    if last:
        last_html = ('<div id="last-test"><h3>Last recovery test</h3><p>%s %s, %s days ago (drill %s: %s of %s jobs restored)</p></div>'
                     % (badge(last["result"], last["result"], field="result"), utc("finished_at", last["finished_at"]),
                        field("age_days", last["age_days"]), e(last["drill_id"]), e(last["passed"]), e(last["jobs"])))
    else:
        last_html = '<div id="last-test"><h3>Last recovery test</h3><p>%s</p></div>' % badge("failed", "never tested", field="result")
    next_html = ('<div id="next-test"><h3>Next recovery test</h3><p>%s %s</p></div>'
                 % (utc("due", nxt["due"]), badge(nxt["state"], field="state")))
    tests = '<section id="tests" aria-labelledby="h-tests"><h2 id="h-tests">Recovery tests</h2>%s%s</section>' % (last_html, next_html)
    return layout(doc, "dr.html", objectives + dests + tests + procedures)


def render(doc):
    return {"index.html": index(doc), "maintenance.html": maintenance(doc), "dr.html": dr(doc)}
