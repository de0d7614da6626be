# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pieces of the three dashboard pages: the layout (CSP with the hashes of the one style and the one script,
so the page can fetch nothing), escaping, state badges (a word and a colour), trend lines, buttons. Pure."""

import base64
import hashlib
from html import escape

CSS = """
:root{--ok:#0b5d1e;--okbg:#dff3e4;--warn:#5c4300;--warnbg:#fff1c7;--crit:#7a0b0b;--critbg:#fbdcdc;--mute:#4a4f55}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1e21;
background:#f6f7f9}header,main,footer{max-width:1200px;margin:0 auto;padding:0 16px}
header{padding-top:12px}nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:12px}
nav a{color:#0645ad;font-weight:600}nav a[aria-current=page]{color:#1b1e21;text-decoration:none}
h1{font-size:1.45rem;margin:.4rem 0}h2{font-size:1.15rem;margin:1.4rem 0 .5rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
section{background:#fff;border:1px solid #d9dde2;border-radius:6px;padding:8px 14px 12px;margin:12px 0}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:.85rem;border:1px solid}
.ok,.healthy,.met,.scheduled,.on_time,.passed{color:var(--ok);background:var(--okbg);border-color:var(--ok)}
.warning,.overran,.cancelled,.unknown,.not_tested{color:var(--warn);background:var(--warnbg);border-color:var(--warn)}
.critical,.failed,.missed,.overdue{color:var(--crit);background:var(--critbg);border-color:var(--crit)}
.table-wrap{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top}th{background:#f0f2f5}
code{font:13px/1.35 ui-monospace,Menlo,Consolas,monospace;background:#f0f2f5;padding:2px 4px;border-radius:3px;
word-break:break-all;white-space:pre-wrap}.actions{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:8px;
list-style:none;padding:0;margin:0}.actions li{border:1px solid #d9dde2;border-radius:6px;padding:6px 8px}
.button{display:inline-block;background:#0b3d91;color:#fff;padding:4px 10px;border-radius:4px;font-weight:600;
text-decoration:none}.muted{color:var(--mute)}#stale{background:var(--critbg);color:var(--crit);border:2px solid var(--crit);
padding:8px 12px;font-weight:700}svg.trend{vertical-align:middle}ul.reasons{margin:.3rem 0;padding-left:1.2rem}
@media (max-width:640px){body{font-size:14px}.table-wrap table,.table-wrap tbody,.table-wrap tr,.table-wrap th,
.table-wrap td{display:block;width:auto}.table-wrap thead{display:none}.table-wrap tr{border-bottom:2px solid #c9ced4;
padding:4px 0}.table-wrap th,.table-wrap td{border:0;padding:2px 4px;background:none}
.table-wrap td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:var(--mute)}}
"""

SCRIPT = """
(function(){var b=document.body,g=Date.parse(b.getAttribute('data-generated-at')),s=+b.getAttribute('data-stale-after-s');
function fmt(x){x=Math.abs(x);var d=Math.floor(x/86400),h=Math.floor(x%86400/3600),m=Math.floor(x%3600/60);
return d?d+' d '+h+' h':h?h+' h '+m+' min':m+' min';}
function tick(){var n=Date.now(),st=document.getElementById('stale');
if(st&&g&&s&&(n-g)/1000>s){st.hidden=false;st.textContent='Stale: this page was generated '+fmt((n-g)/1000)+
' ago, more than '+fmt(s)+'; the generator may have stopped. The figures below are not current.';}
var c=document.querySelectorAll('[data-countdown-to]');for(var i=0;i<c.length;i++){var t=(Date.parse(
c[i].getAttribute('data-countdown-to'))-n)/1000;c[i].textContent=t>0?'in '+fmt(t):'started '+fmt(t)+' ago';}
var a=document.querySelectorAll('[data-age-from]');for(var k=0;k<a.length;k++){var f=Date.parse(a[k].getAttribute(
'data-age-from'));if(f){a[k].textContent=fmt((n-f)/1000);}}}
var l=document.querySelectorAll('[data-local-time]');for(var j=0;j<l.length;j++){try{l[j].textContent=
new Date(l[j].getAttribute('data-local-time')).toLocaleString([], {dateStyle:'medium',timeStyle:'short',
timeZoneName:'short'});}catch(e){}}tick();setInterval(tick,30000);})();
"""

PAGES = (("index.html", "Operations"), ("maintenance.html", "Maintenance"), ("dr.html", "Disaster Recovery"))


def e(value):
    return escape("" if value is None else str(value), quote=True)


def _sha(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


CSP = ("default-src 'none'; style-src %s; script-src %s; img-src data:; base-uri 'none'; form-action 'none'"
       % (_sha(CSS), _sha(SCRIPT)))


def badge(state, text=None, field="status"):
    """A state as a word and a colour (``data-field`` for the tests and for scrapers)."""
    cls = str(state or "unknown").replace(" ", "_")
    return '<span class="badge %s" data-field="%s">%s</span>' % (e(cls), e(field), e(text or state or "unknown"))


def field(name, value, tag="span", extra=""):
    return '<%s data-field="%s"%s>%s</%s>' % (tag, e(name), extra, e(value if value is not None else "n/a"), tag)


def utc(name, iso):
    if not iso:
        return field(name, "n/a")
    return '<time data-field="%s" datetime="%s">%s</time>' % (e(name), e(iso), e(iso.replace("T", " ").replace("Z", " UTC")))


def size(value):
    if value is None:
        return "n/a"
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "n/a"


def trend(values, label, width=120, height=24):
    """An inline SVG line of ``values`` (None skipped), 0-100 %; nothing when fewer than two readings."""
    points = [(i, v) for i, v in enumerate(values) if isinstance(v, (int, float))]
    if len(points) < 2:
        return ""
    n = max(len(values) - 1, 1)
    coords = " ".join("%.1f,%.1f" % (i * width / n, height - max(0.0, min(100.0, v)) * height / 100.0) for i, v in points)
    low, high = min(v for _i, v in points), max(v for _i, v in points)
    return ('<svg class="trend" role="img" aria-label="%s trend: %d readings, from %.1f to %.1f %%" width="%d" height="%d" '
            'viewBox="0 0 %d %d"><polyline fill="none" stroke="#0b3d91" stroke-width="1.5" points="%s"/></svg>'
            % (e(label), len(points), low, high, width, height, width, height, coords))


def button(link, extra_label=None):
    """An AWX launch link, or the command to copy; inside an element carrying ``data-action``."""
    label = extra_label or link["label"]
    if link.get("url"):
        body = '<a class="button" data-field="launch" href="%s" rel="noopener noreferrer">%s</a> <span class="muted">' \
               'AWX job template %s</span>' % (e(link["url"]), e(label), e(link.get("template")))
    else:
        body = '<span data-field="label">%s</span>: <code data-field="command">%s</code>' % (e(label), e(link["command"]))
    return '<span data-action="%s">%s</span>' % (e(link["key"]), body)


def _label_cells(row, headers):
    """``data-label`` on each ``<td>`` (the column's header), shown before the value when a phone stacks the cells."""
    parts = row.split("<td")
    out = [parts[0]]
    for index, part in enumerate(parts[1:]):
        label = headers[index + 1] if index + 1 < len(headers) else ""
        out.append(' data-label="%s"%s' % (e(label), part) if part[:1] in (">", " ") else part)
    return "<td".join(out)


def table(caption, headers, rows, section_id=None):
    head = "".join('<th scope="col">%s</th>' % e(h) for h in headers)
    rows = [_label_cells(row, headers) for row in rows]
    return ('<div class="table-wrap" tabindex="0" role="region" aria-label="%s"%s><table><caption class="muted">%s</caption>'
            '<thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>'
            % (e(caption), ' id="%s"' % e(section_id) if section_id else "", e(caption), head, "".join(rows)))


def layout(doc, current, body):
    title = "%s - %s" % (dict(PAGES)[current], doc["title"])
    nav = "".join('<li><a href="%s"%s>%s</a></li>' % (href, ' aria-current="page"' if href == current else "", e(label))
                  for href, label in PAGES)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta http-equiv="Content-Security-Policy" content="%s">'
            '<title>%s</title><style>%s</style></head>'
            '<body data-generated-at="%s" data-stale-after-s="%d">'
            '<header><nav aria-label="Dashboards"><ul>%s</ul></nav><h1>%s</h1>'
            '<p id="generated" class="muted">Generated %s by watchkeeper.ops; regenerated every few minutes (reload for the newest).</p>'
            '<div id="stale" role="alert" hidden></div></header><main>%s</main>'
            '<footer><p class="muted">Every state is shown as a word and a colour. Times are UTC unless marked.</p></footer>'
            '<script>%s</script></body></html>\n'
            % (e(CSP), e(title), CSS, e(doc["generated_at"]), int(doc["stale_after_s"]), nav, e(title),
               utc("generated_at", doc["generated_at"]), body, SCRIPT))
