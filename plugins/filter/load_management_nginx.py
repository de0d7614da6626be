# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load_management role's settings checked and turned into nginx configuration text (pure)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.watchkeeper.ops.plugins.module_utils.load.classes import LoadConfigError, plan
from ansible_collections.watchkeeper.ops.plugins.module_utils.load.nginx_conf import render

SETTINGS = ("classes", "servers", "default_class", "critical_reserve", "allow_ips", "retry_after_rate_limited",
            "retry_after_shed", "upstream_name", "location", "access_log", "client_zone_size")


def load_management_nginx(settings):
    """``{"http": text, "server": text, "summary": {...}}`` for the role's settings; a mistake raises a clear error."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("load_management_nginx: the input must be a mapping of settings, got %s" % type(settings).__name__)
    unknown = sorted(str(k) for k in settings if k not in SETTINGS)
    if unknown:
        raise AnsibleFilterError("load_management_nginx: unknown setting(s) %s (allowed: %s)" % (", ".join(unknown), ", ".join(SETTINGS)))
    try:
        checked = plan(**dict((k, v) for k, v in settings.items() if v is not None))
    except LoadConfigError as exc:
        raise AnsibleFilterError(exc.msg)
    except TypeError as exc:  # classes or servers missing
        raise AnsibleFilterError("load_management_nginx: %s" % exc)
    out = render(checked)
    out["summary"] = {"classes": [k["name"] for k in checked["classes"]], "never_shed": checked["critical"],
                      "capacity": checked["capacity"], "critical_reserve": checked["critical_reserve"],
                      "shared_limit": checked["shared_limit"]}
    return out


class FilterModule(object):
    def filters(self):
        return {"load_management_nginx": load_management_nginx}
