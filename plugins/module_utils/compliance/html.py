# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report as one self-contained HTML page (pure: no I/O, no JavaScript, no external asset).

Every value goes through ``report.html.e`` (``html.escape``). Stable ids for tests and auditors: ``summary``,
``controls`` (rows ``data-control`` / ``data-status``), ``checks`` (one ``section`` per check, ``check-<id>``),
each check's evidence table ``evidence-<id>``.
"""

from ansible_collections.watchkeeper.ops.plugins.module_utils.report.html import CSS as BASE_CSS
from ansible_collections.watchkeeper.ops.plugins.module_utils.report.html import e

CSS = BASE_CSS + """
.pass{background:#d9f2e3;color:#145c32}
.fail{background:#fbdedd;color:#8a1c17}
.not_applicable{background:#e7eaee;color:#4a5561}
tr.fail td{background:#fdf0ef}
td.hash{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:11px;overflow-wrap:anywhere}
ul.problems{margin:6px 0;padding-left:18px;color:#8a1c17}
dl.numbers{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:8px 0;font-size:13px}
dl.numbers dt{color:#5f6b78}
dl.numbers dd{margin:0}
"""

LABELS = {"pass": "pass", "fail": "fail", "not_applicable": "not applicable"}
ITEM_COLUMNS_MAX = 10


def badge(status, extra=""):
    return '<span class="badge %s %s">%s</span>' % (e(status), extra, e(LABELS.get(status, status)))


def _header(doc):
    summary, period = doc["summary"], doc["period"]
    verdict = "pass" if doc["passed"] else "fail"
    rows = [("Period", "%s (%s to %s, end exclusive)" % (period["label"], period["start"], period["end"])),
            ("Generated", doc["generated_at"]), ("Report", doc["report_id"]), ("Host", doc["generator"].get("host")),
            ("ops_state", doc["ops_state"]), ("Jobs", ", ".join(doc["jobs"]) or "none")]
    return ('<header id="summary" data-passed="%s"><div><h1>%s</h1><div>%s <span id="overall-text">%d controls: %d passed, '
            '%d failed, %d not applicable; %d evidence files</span></div></div><dl>%s</dl></header>'
            % (e(str(doc["passed"]).lower()), e(doc["title"]), badge(verdict, "verdict"), summary["controls"],
               summary["passed"], summary["failed"], summary["not_applicable"], summary["evidence_files"],
               "".join("<dt>%s</dt><dd>%s</dd>" % (e(k), e(v)) for k, v in rows)))


def _controls(doc):
    rows = []
    for control in doc["controls"]:
        checks = ", ".join('<a href="#check-%s">%s</a>' % (e(c), e(c)) for c in control["checks"])
        rows.append('<tr data-control="%s" data-status="%s" class="%s"><td><strong>%s</strong></td><td>%s</td><td>%s</td>'
                    '<td>%s</td><td>%s</td><td>%s</td><td>%d</td></tr>'
                    % (e(control["id"]), e(control["status"]), "fail" if control["status"] == "fail" else "",
                       e(control["id"]), e(control["framework"]), e(control["title"]), checks, badge(control["status"]),
                       e(control["reason"]), len(control["evidence"])))
    return ('<section id="controls"><h2>Controls</h2><table><thead><tr><th>Control</th><th>Framework</th><th>Title</th>'
            '<th>Evidence checks</th><th>Status</th><th>Why</th><th>Files</th></tr></thead><tbody>%s</tbody></table></section>'
            % "".join(rows))


def _numbers(check):
    kpi = check["kpi"]
    pairs = [("KPI", kpi.get("rule")), ("target", kpi.get("target")), ("achieved", kpi.get("achieved"))]
    if kpi.get("max_age_days"):
        pairs.append(("max age (days)", kpi["max_age_days"]))
    pairs += sorted(check["numbers"].items())
    return '<dl class="numbers">%s</dl>' % "".join("<dt>%s</dt><dd>%s</dd>" % (e(k), e(v)) for k, v in pairs)


def _items(check):
    items = check["items"]
    if not items:
        return ""
    columns = []
    for item in items:
        for key in item:
            if key not in columns and len(columns) < ITEM_COLUMNS_MAX:
                columns.append(key)
    head = "".join("<th>%s</th>" % e(c) for c in columns)
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % e(item.get(c)) for c in columns) for item in items)
    return "<h4>Population judged (%d)</h4><table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (len(items), head, body)


def _evidence(check):
    files = check["evidence"]
    if not files:
        return '<h4>Evidence files</h4><p class="muted">none</p>'
    rows = "".join('<tr><td><code>%s</code></td><td class="hash">%s</td><td>%s</td></tr>'
                   % (e(f["path"]), e(f["sha256"]), e(f["bytes"])) for f in files)
    return ('<h4>Evidence files (%d)</h4><table id="evidence-%s"><thead><tr><th>Path</th><th>SHA-256</th><th>Bytes</th>'
            '</tr></thead><tbody>%s</tbody></table>' % (len(files), e(check["id"]), rows))


def _check(check, controls):
    problems = ""
    if check["problems"]:
        problems = '<ul class="problems">%s</ul>' % "".join("<li>%s</li>" % e(p) for p in check["problems"])
    return ('<section id="check-%s" class="check" data-status="%s"><h3>%s %s</h3><div>%s</div>'
            '<div class="muted">Controls: %s</div>%s%s%s<h4>Query</h4><pre>%s</pre>%s</section>'
            % (e(check["id"]), e(check["status"]), badge(check["status"]), e(check["title"]), e(check["reason"]),
               e(", ".join(controls)), _numbers(check), problems, _items(check), e(check["query"] or "n/a"),
               _evidence(check)))


def render(doc):
    by_check = {}
    for control in doc["controls"]:
        for check_id in control["checks"]:
            by_check.setdefault(check_id, []).append(control["id"])
    checks = "".join(_check(c, by_check.get(c["id"], [])) for c in doc["checks"])
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><title>%s - %s</title><style>%s</style></head><body><main>'
            '%s%s<section id="checks"><h2>Evidence checks</h2>%s</section>'
            '<footer class="muted">%s v%s, schema %s v%s</footer></main></body></html>\n'
            % (e(doc["title"]), e(doc["period"]["label"]), CSS, _header(doc), _controls(doc), checks,
               e(doc["generator"]["module"]), e(doc["generator"].get("collection_version")), e(doc["schema"]),
               e(doc["schema_version"])))
