# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drill report as one self-contained HTML page (pure: no I/O, no Jinja2, no JavaScript).

Inline CSS only, no external asset, every value passed through ``html.escape``. Sections carry
stable ids (``summary``, ``objectives``, ``locations``, ``missed``, ``jobs``, ``checks``,
``runbooks``) and job rows ``data-job`` attributes, so tests and auditors can find them.
"""

import html
import json

from ansible_collections.watchkeeper.ops.plugins.module_utils.report.drill import fmt_duration

PHASE_LABELS = {"select_s": "select backup", "download_decrypt_s": "download + decrypt", "restore_data_s": "restore data",
                "indexes_constraints_s": "indexes + constraints", "checks_s": "checks", "cleanup_s": "cleanup"}

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
h4{font-size:14px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e3e7eb}
th{background:#eef1f4;font-weight:600}
code,pre{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:#f6f8fa;border:1px solid #e3e7eb;border-radius:6px;padding:10px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700;font-size:12px;text-transform:uppercase}
.met,.healthy,.passed{background:#d9f2e3;color:#145c32}
.missed,.failed{background:#fbdedd;color:#8a1c17}
.warning{background:#fff1c9;color:#7a5300}
.verdict{font-size:16px;padding:6px 16px}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:14px}
.panel{border:1px solid #e3e7eb;border-radius:8px;padding:12px 14px}
.panel .big{font-size:22px;font-weight:700}
.muted{color:#5f6b78;font-size:12px}
tr.fail td{background:#fdf0ef}
ul.phases{margin:4px 0 0;padding-left:16px;color:#5f6b78;font-size:12px}
ul.phases li,td.rpo,td.checks{white-space:nowrap}
td.rto{min-width:210px}
td code{overflow-wrap:anywhere}
.runbook td:first-child{white-space:nowrap}
.error{color:#8a1c17;font-weight:600}
@media print{body{background:#fff}section,header{box-shadow:none;break-inside:avoid-page}
header{color:#000;background:#fff;border:2px solid #000}header dt{color:#333}}
"""


def e(value):
    """Escape anything for HTML text or attributes (None -> empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, sort_keys=True, default=str)
    return html.escape(value, quote=True)


def badge(verdict, extra=""):
    return '<span class="badge %s %s">%s</span>' % (e(verdict), extra, e(verdict))


def _header(doc):
    rows = [("Drill", doc["drill_id"]), ("Operator", doc["operator"]), ("Host", doc.get("host")),
            ("Started", doc["started_at"]), ("Finished", doc["finished_at"]), ("Duration", fmt_duration(doc["duration_s"])),
            ("Next drill due", doc.get("next_drill_due"))]
    summary = doc["summary"]
    return ('<header id="summary"><div><h1>%s</h1><div>%s <span id="overall-text">Objectives %s: %d of %d jobs met '
            'them, %d restore(s) failed, %d of %d checks failed</span></div></div><dl>%s</dl></header>'
            % (e(doc["title"]), badge(doc["verdict"], "verdict"), e(doc["verdict"]), summary["met"], summary["jobs"],
               summary["failed"], summary["checks_failed"], summary["checks"],
               "".join("<dt>%s</dt><dd>%s</dd>" % (e(k), e(v)) for k, v in rows)))


def _objectives(doc):
    panels = []
    for name, label in (("rpo", "Recovery Point Objective (RPO)"), ("rto", "Recovery Time Objective (RTO)")):
        obj = doc["objectives"][name]
        verdict = "met" if obj["met"] else "missed"
        worst = "%s (%s)" % (fmt_duration(obj["worst_s"]), obj["worst_job"]) if obj["worst_s"] is not None else "not measured"
        extra = ""
        if name == "rto" and obj.get("not_recovered"):
            extra = '<div class="error">%d job(s) not recovered</div>' % obj["not_recovered"]
        panels.append('<div class="panel" id="objective-%s" data-verdict="%s"><div class="muted">%s</div>'
                      '<div class="big">target %s</div><div>worst achieved: <strong>%s</strong></div>'
                      '<div>%d job(s) met, %d missed</div>%s<div>%s</div></div>'
                      % (name, verdict, e(label), e(fmt_duration(obj["target_s"])), e(worst), obj["jobs_met"],
                         obj["jobs_missed"], extra, badge(verdict)))
    return '<section id="objectives"><h2>Objectives</h2><div class="panels">%s</div></section>' % "".join(panels)


def _locations(doc):
    if not doc["destinations"]:
        return ""
    row = ('<tr data-destination="%s"><td>%s</td><td>%s</td><td><code>%s</code></td><td>%d ok, %d failed, %d skipped</td>'
           '<td>%s</td></tr>')
    rows = "".join(row % (e(d["name"]), e(d["name"]), e(d["type"]), e(d["location"]), d["ok"], d["failed"], d["skipped"],
                          badge(d["status"])) for d in doc["destinations"])
    return ('<section id="locations"><h2>Backup locations</h2><table><thead><tr><th>Destination</th><th>Type</th>'
            '<th>Location</th><th>Reads in this drill</th><th>Status</th></tr></thead><tbody>%s</tbody></table></section>' % rows)


def _missed(doc):
    if not doc["missed"]:
        return '<section id="missed"><h2>Missed objectives</h2><p>None: every job met every objective.</p></section>'
    rows = "".join("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
        e(m["job"]), e(m["objective"]), e(fmt_duration(m["target_s"])), e(fmt_duration(m["achieved_s"])), e(m["detail"]))
        for m in doc["missed"])
    return ('<section id="missed"><h2>Missed objectives</h2><table><thead><tr><th>Job</th><th>Objective</th><th>Target</th>'
            '<th>Achieved</th><th>Detail</th></tr></thead><tbody>%s</tbody></table></section>' % rows)


def _timings(job):
    phases = "".join("<li>%s: %s</li>" % (e(PHASE_LABELS.get(k, k[:-2].replace("_", " "))), e(fmt_duration(v)))
                     for k, v in job["rto"]["phases"].items())
    return '<strong class="rto-total">%s</strong>%s' % (e(fmt_duration(job["rto"]["total_s"])),
                                                        '<ul class="phases">%s</ul>' % phases if phases else "")


def _job_row(job):
    dest = job["destination"] or {}
    fallbacks = "".join('<div class="muted">tried %s: %s%s</div>' % (
        e(a["destination"]), e(a["status"]), " (%s)" % e(a["error"]) if a["error"] else "") for a in job["fallbacks"])
    error = '<div class="error">%s</div>' % e(job["error"]) if job["error"] else ""
    return ('<tr data-job="%s" data-verdict="%s" class="%s"><td><strong>%s</strong>%s</td><td>%s</td>'
            '<td><code>%s</code><div class="muted">created %s</div></td><td>%s<div class="muted"><code>%s</code></div>%s</td>'
            '<td class="rto">%s %s</td><td class="rpo">%s %s</td><td class="checks">%d passed, %d failed</td><td>%s</td></tr>'
            % (e(job["job"]), e(job["verdict"]), "" if job["verdict"] == "met" else "fail", e(job["job"]), error,
               e(job["kind"]), e(job["backup_id"]), e(job["backup_created_at"]), e(dest.get("name")), e(dest.get("location")),
               fallbacks, _timings(job), badge(job["rto"]["verdict"]), e(fmt_duration(job["rpo"]["achieved_s"])),
               badge(job["rpo"]["verdict"]), job["checks_passed"], job["checks_failed"], badge(job["verdict"])))


def _jobs(doc):
    return ('<section id="jobs"><h2>Jobs</h2><table><thead><tr><th>Job</th><th>Kind</th><th>Backup</th><th>Destination</th>'
            '<th>RTO (total, phases)</th><th>RPO</th><th>Checks</th><th>Verdict</th></tr></thead><tbody>%s</tbody></table>'
            '</section>' % "".join(_job_row(j) for j in doc["jobs"]))


def _checks(doc):
    parts = []
    for job in doc["jobs"]:
        rows = "".join('<tr class="%s" data-check="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                       '<td>%s</td></tr>' % ("" if c["passed"] else "fail", e(c["name"]), e(c["name"]), e(c["kind"]),
                                             e(c["table"]), e(c["expected"]), e(c["found"]), e(c["detail"]),
                                             badge("passed" if c["passed"] else "failed"))
                       for c in job["checks"])
        body = ('<table><thead><tr><th>Check</th><th>Kind</th><th>Table</th><th>Expected</th><th>Found</th><th>Detail</th>'
                '<th>Result</th></tr></thead><tbody>%s</tbody></table>' % rows) if rows else "<p>No checks ran.</p>"
        extra = "".join('<div class="error">mismatch: %s</div>' % e(m) for m in job["mismatches"])
        if job["error"]:
            extra += '<div class="error">error: %s</div>' % e(job["error"])
        parts.append('<div class="job-checks" data-job="%s"><h3>%s <span class="muted">%d passed, %d failed</span></h3>%s%s</div>'
                     % (e(job["job"]), e(job["job"]), job["checks_passed"], job["checks_failed"], extra, body))
    return '<section id="checks"><h2>Checks</h2>%s</section>' % "".join(parts)


def _steps(steps):
    return "".join('<li><h4>%s</h4>%s<pre><code>%s</code></pre></li>' % (
        e(s["title"]), '<p class="muted">%s</p>' % e(s["note"]) if s.get("note") else "", e("\n".join(s["commands"])))
        for s in steps)


def _runbooks(doc, runbook_paths):
    parts = []
    for job in doc["jobs"]:
        book = job["runbook"]
        path = (runbook_paths or {}).get(job["id"])
        link = ' <a class="muted" href="%s">%s</a>' % (e(path), e(path)) if path else ""
        if not book:
            parts.append('<div class="runbook" data-job="%s"><h3>%s</h3><p class="error">%s</p></div>'
                         % (e(job["job"]), e(job["job"]), e(job["runbook_error"])))
            continue
        env = "".join("<tr><td><code>%s</code></td><td>%s</td></tr>" % (e(v["name"]), e(v["description"])) for v in book["env"])
        parts.append('<div class="runbook" data-job="%s"><h3>%s: backup <code>%s</code> from %s%s</h3>'
                     '<table><thead><tr><th>Variable</th><th>Meaning</th></tr></thead><tbody>%s</tbody></table>'
                     '<p class="muted">Tools: %s</p><h4>A. With the collection</h4><ol>%s</ol>'
                     '<h4>B. By hand, with standard tools only (every step starts in $WORK_DIR)</h4><ol>%s</ol></div>'
                     % (e(job["job"]), e(job["job"]), e(book["backup_id"]), e(book["destination"]["name"]), link, env,
                        e(", ".join(book["tools"])), _steps(book["collection"]), _steps(book["by_hand"])))
    return '<section id="runbooks"><h2>Runbooks</h2>%s</section>' % "".join(parts)


def render(doc, runbook_paths=None):
    """The whole page (str). ``runbook_paths``: ``{job id: relative path of its Markdown runbook}``."""
    body = "".join([_header(doc), _objectives(doc), _locations(doc), _missed(doc), _jobs(doc), _checks(doc),
                    _runbooks(doc, runbook_paths)])
    footer = '<p class="muted">Generated by watchkeeper.ops %s (drill_report), schema %s v%d. The JSON report next to ' \
             'this page holds every value shown here.</p>' % (e(doc.get("collection_version")), e(doc["schema"]), doc["schema_version"])
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" '
            'content="default-src \'none\'; style-src \'unsafe-inline\'"><title>%s - %s</title><style>%s</style></head>'
            '<body><main>%s%s</main></body></html>\n' % (e(doc["title"]), e(doc["drill_id"]), CSS, body, footer))
