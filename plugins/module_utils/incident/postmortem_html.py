# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The postmortem (postmortem.build) as one self-contained HTML page. Pure: no I/O, no Jinja2, no JavaScript.

Inline CSS only, no external asset (the page works offline and requests nothing), every value through
``html.escape``. Stable hooks for tests and readers: sections ``#summary``, ``#impact``, ``#kpis`` (one
``[data-kpi=<name>]`` per KPI with ``data-seconds`` and ``data-met``), ``#timeline`` (rows ``tr[data-entry]`` with
``td.at``, ``td.source``, ``td.author``, ``td.text``), ``#runs``, ``#logs``.
"""

import html
import json

from ansible_collections.watchkeeper.ops.plugins.module_utils.incident.postmortem import TO_COMPLETE, duration, log_line

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1d2733;background:#f4f6f8;margin:0}
main{max-width:1200px;margin:0 auto;padding:24px}
header{background:#1d2733;color:#fff;padding:20px 24px;border-radius:8px;display:flex;justify-content:space-between;gap:24px;flex-wrap:wrap}
header h1{margin:0 0 6px;font-size:22px}
header dl{display:grid;grid-template-columns:auto auto;gap:2px 12px;margin:0;font-size:13px}
header dt{color:#aab6c3}
header dd{margin:0}
section{background:#fff;border-radius:8px;padding:16px 20px;margin-top:18px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:18px;margin:0 0 12px}
h3{font-size:15px;margin:18px 0 8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e3e7eb}
th{background:#eef1f4;font-weight:600}
td.at{white-space:nowrap;font-variant-numeric:tabular-nums}
code,pre{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:#f6f8fa;border:1px solid #e3e7eb;border-radius:6px;padding:10px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700;font-size:12px;text-transform:uppercase}
.SEV1,.no,.failed{background:#fbdedd;color:#8a1c17}
.SEV2,.partial{background:#fff1c9;color:#7a5300}
.SEV3,.yes,.ok{background:#d9f2e3;color:#145c32}
.pending{background:#eef1f4;color:#5f6b78}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:14px}
.panel{border:1px solid #e3e7eb;border-radius:8px;padding:12px 14px}
.panel .big{font-size:22px;font-weight:700}
.muted{color:#5f6b78;font-size:12px}
.src-alert td.source{color:#8a1c17;font-weight:600}
.src-runbook td.source{color:#1f5fa8;font-weight:600}
.todo{color:#5f6b78;font-style:italic}
@media print{body{background:#fff}section,header{box-shadow:none;break-inside:avoid-page}
header{color:#000;background:#fff;border:2px solid #000}header dt{color:#333}}
"""
MET = {True: "yes", False: "no", None: "pending"}


def e(value):
    """Escape anything for HTML text or attributes (None -> empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return html.escape(value, quote=True)


def badge(text, css=None):
    return '<span class="badge %s">%s</span>' % (e(css or text), e(text))


def _header(pm):
    ms = pm["milestones"]
    rows = [("Incident", pm["id"]), ("Status", pm["status"]), ("Opened", ms["opened_at"]),
            ("Acknowledged", ms["acknowledged_at"] or "-"), ("Mitigated", ms["mitigated_at"] or "-"),
            ("Resolved", ms["resolved_at"] or "-"), ("Responders", ", ".join(pm["responders"]) or "-"),
            ("Period", "%s to %s" % (pm["period"]["start"], pm["period"]["end"])), ("Generated", pm["generated_at"])]
    return ('<header id="summary"><div><h1>Postmortem: %s</h1><div>%s <span id="status">%s</span></div></div><dl>%s</dl>'
            '</header>' % (e(pm["title"]), badge(pm["severity"]), e(pm["status"]),
                           "".join("<dt>%s</dt><dd>%s</dd>" % (e(k), e(v)) for k, v in rows)))


def _summary_impact(pm):
    impact = pm["impact"]
    summary = e(pm["summary"]) if pm["summary"] else '<span class="todo">No summary recorded.</span>'
    return ('<section id="impact"><h2>Summary and impact</h2><p id="summary-text">%s</p><ul>'
            '<li>Customer impact: %s</li><li>Components: %s</li><li>Shown on the status page: %s</li></ul></section>'
            % (summary, badge("yes" if impact["customer_impact"] else "no", "no" if impact["customer_impact"] else "yes"),
               e(", ".join(impact["components"]) or "none recorded"), e("yes" if impact["public"] else "no")))


def _kpis(pm):
    panels = []
    for kpi in pm["kpis"]:
        target = "target %s" % duration(kpi["target_s"]) if kpi["target_s"] else "no target"
        panels.append('<div class="panel" data-kpi="%s" data-seconds="%s" data-met="%s"><div class="muted">%s</div>'
                      '<div class="big">%s</div><div class="muted">%s</div>%s</div>'
                      % (e(kpi["name"]), e("" if kpi["seconds"] is None else str(kpi["seconds"])), e(MET[kpi["met"]]),
                         e(kpi["label"]), e(kpi["text"]), e(target),
                         badge("met" if kpi["met"] else "missed", MET[kpi["met"]]) if kpi["met"] is not None else ""))
    return '<section id="kpis"><h2>Key figures</h2><div class="panels">%s</div></section>' % "".join(panels)


def _timeline(pm):
    rows = "".join(
        '<tr data-entry="%s" class="src-%s"><td class="at">%s</td><td class="source">%s</td><td class="author">%s</td>'
        '<td class="text">%s%s</td></tr>'
        % (e(x["id"]), e(x["source"]), e(x["at"]), e(x["source"]), e(x["author"]), e(x["text"]),
           '<div class="muted"><code>%s</code></div>' % e(x["data"]) if x["data"] else "") for x in pm["timeline"])
    return ('<section id="timeline"><h2>Timeline</h2><table><thead><tr><th>Time (UTC)</th><th>Source</th><th>Author</th>'
            '<th>What happened</th></tr></thead><tbody>%s</tbody></table></section>' % rows)


def _runs(pm):
    parts = []
    if pm["backup_runs"] is None:
        parts.append('<p class="muted">Backup run history not read.</p>')
    elif not pm["backup_runs"]:
        parts.append("<p>No backup run in the period.</p>")
    else:
        rows = "".join('<tr data-backup="%s"><td>%s</td><td><code>%s</code></td><td>%s</td><td class="at">%s</td><td>%s</td>'
                       '<td>%s</td></tr>' % (e(r["backup_id"]), e(r["job"]), e(r["backup_id"]), badge(r["status"]),
                                             e(r["started"]), e(duration(r["duration_s"])), e(r["msg"] or ""))
                       for r in pm["backup_runs"])
        parts.append('<h3>Backup runs</h3><table id="backup-runs"><thead><tr><th>Job</th><th>Backup</th><th>Status</th>'
                     '<th>Started</th><th>Duration</th><th>Message</th></tr></thead><tbody>%s</tbody></table>' % rows)
    if pm["audit_runs"] is not None:
        rows = "".join('<tr data-run="%s"><td>%s</td><td>%s</td><td class="at">%s</td><td class="at">%s</td><td>%d</td>'
                       '<td>%d</td><td>%s</td></tr>' % (e(r["run"]), e(r["playbook"]), e(r["user"]), e(r["start"]),
                                                        e(r["end"]), r["tasks"], r["failed"], e(", ".join(r["hosts"])))
                       for r in pm["audit_runs"]) or '<tr><td colspan="7">No run recorded in the period.</td></tr>'
        parts.append('<h3>Audit trail</h3><table id="audit-runs"><thead><tr><th>Playbook</th><th>User</th><th>From</th>'
                     '<th>To</th><th>Tasks</th><th>Failed</th><th>Hosts</th></tr></thead><tbody>%s</tbody></table>' % rows)
    return '<section id="runs"><h2>Runs in the period</h2>%s</section>' % "".join(parts)


def _logs(pm):
    logs = pm["logs"]
    if logs is None:
        return ""
    lines = "\n".join(log_line(m) for m in logs["matches"])
    shown = ", the newest %d shown" % len(logs["matches"]) if logs["truncated"] else ""
    return ('<section id="logs"><h2>Log excerpt</h2><p>Pattern <code>%s</code>: %d matching line(s)%s.</p>%s</section>'
            % (e(logs["pattern"]), logs["total"], e(shown), "<pre>%s</pre>" % e(lines) if lines else "<p>No matching line.</p>"))


def _to_complete(pm):
    links = "".join('<li><a href="%s">%s</a></li>' % (e(link["url"]), e(link.get("title") or link["url"]))
                    for link in pm["links"] if str(link.get("url", "")).startswith(("http://", "https://")))
    todo = '<p class="todo">%s</p>' % e(TO_COMPLETE)
    return ('<section id="analysis"><h2>Root cause</h2>%s<h2>What went well, what did not</h2>%s<h2>Action items</h2>%s'
            '%s</section>' % (todo, todo, todo, "<h2>Links</h2><ul>%s</ul>" % links if links else ""))


def render(pm):
    """The whole page (UTF-8 text)."""
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Postmortem %s - %s</title>'
            '<style>%s</style></head><body><main>%s%s%s%s%s%s%s</main></body></html>\n'
            % (e(pm["id"]), e(pm["title"]), CSS, _header(pm), _summary_impact(pm), _kpis(pm), _timeline(pm), _runs(pm),
               _logs(pm), _to_complete(pm)))
