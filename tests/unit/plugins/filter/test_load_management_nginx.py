# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load_management_nginx filter: the role's settings in, nginx text and a summary out, mistakes as filter errors."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.watchkeeper.ops.plugins.filter.load_management_nginx import FilterModule, load_management_nginx

SETTINGS = {"classes": [{"name": "critical", "shed": False, "match": [{"prefix": "/health"}]}, {"name": "normal", "concurrency": 2}],
            "servers": [{"address": "127.0.0.1:8000", "max_conns": 4}], "critical_reserve": 1, "allow_ips": None}


def test_settings_become_text_and_summary():
    out = load_management_nginx(SETTINGS)
    assert "upstream wk_load" in out["http"] and "location / {" in out["server"]
    assert out["summary"] == {"classes": ["critical", "normal"], "never_shed": ["critical"], "capacity": 4,
                              "critical_reserve": 1, "shared_limit": 3}
    assert FilterModule().filters()["load_management_nginx"] is load_management_nginx


@pytest.mark.parametrize("settings,match", [
    ([], "the input must be a mapping"),
    (dict(SETTINGS, colour="red"), "unknown setting(s) colour"),
    ({"classes": SETTINGS["classes"]}, "servers"),
    (dict(SETTINGS, critical_reserve=4), "load_management: critical_reserve: the reserve (4) must be below"),
])
def test_mistakes_are_filter_errors(settings, match):
    with pytest.raises(AnsibleFilterError) as info:
        load_management_nginx(settings)
    assert match in str(info.value)
