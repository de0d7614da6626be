"""The HTML page: self-contained, every value escaped, every section present."""

import datetime
import html.parser

from ansible_collections.watchkeeper.ops.plugins.module_utils.report import drill
from ansible_collections.watchkeeper.ops.plugins.module_utils.report import html as html_report

import samples

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
EVIL = '<script>alert("x")</script>'


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def page(results, title="Quarterly drill"):
    doc = drill.build_report(results, {}, "alice", None, NOW, "0a1b2c3d", title)
    return doc, html_report.render(doc, {"app-db": "runbooks/app-db.md"})


def parse(text):
    tags = Tags()
    tags.feed(text)
    return tags


def test_hostile_values_are_escaped_everywhere():
    bad = samples.result(EVIL, passed=False)
    bad["checks"][1].update(name=EVIL, expected=EVIL, found={"x": EVIL}, detail=EVIL)
    bad["mismatches"] = [EVIL]
    failed = samples.failed_result('"><img src=x onerror=alert(1)>', msg=EVIL)
    _doc, text = page([bad, failed], title=EVIL)
    tags = parse(text)
    assert "script" not in tags.tags and "img" not in tags.tags
    assert "<script" not in text.lower() and "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert any(EVIL in chunk for chunk in tags.text)  # shown as text, not markup
    assert all(name not in ("src", "onerror", "onload") for name, _value in tags.attrs)


def test_self_contained_no_scripts_no_external_assets():
    _doc, text = page([samples.result("app-db")])
    tags = parse(text)
    assert set(tags.tags) >= {"html", "head", "style", "body", "header", "section", "table"}
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(tags.tags)
    assert "http://" not in text and "https://" not in text and "url(" not in text and "@import" not in text
    assert "default-src 'none'" in text  # CSP: nothing loads or runs even if escaping had a hole


def test_sections_rows_and_verdicts():
    results = [samples.result("app-db"), samples.result("slow", rto_total=9000.0), samples.failed_result("uploads")]
    doc, text = page(results)
    for section in ("summary", "objectives", "locations", "missed", "jobs", "checks", "runbooks"):
        assert 'id="%s"' % section in text
    assert 'id="objective-rpo" data-verdict="missed"' in text and 'id="objective-rto" data-verdict="missed"' in text
    assert 'data-job="slow" data-verdict="missed" class="fail"' in text
    assert 'data-job="app-db" data-verdict="met" class=""' in text
    assert "2h 30m" in text and "restore data" in text and "1 job(s) not recovered" in text
    assert "step download, destination nas: no valid backup of job uploads" in text
    assert 'href="runbooks/app-db.md"' in text
    assert text.count('class="runbook"') == 3 and "no runbook: the result names no backup" in text
    assert "gpg --batch --decrypt" in text and "pg_restore -j &quot;$(nproc)&quot;" in text
    assert doc["verdict"] == "missed" and "Objectives missed" in text


def test_failed_checks_are_highlighted():
    _doc, text = page([samples.result("app-db", passed=False)])
    assert '<tr class="fail" data-check="checksum public.users">' in text
    assert '<tr class="" data-check="rows public.users">' in text
    assert "mismatch: checksum public.users: expected 9f1c, found 0000" in text
