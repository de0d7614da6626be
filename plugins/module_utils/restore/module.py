# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``main()`` that ``restore_verify`` and ``restore`` share: arguments in, result or failure out."""

from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.restore.runner import RestoreFailed, run_restore


def run_module(module_class, argument_spec, mode):
    """``module_class`` is ``AnsibleModule``, imported by the module file itself (as ansible-test expects)."""
    module = module_class(argument_spec=argument_spec, supports_check_mode=True,
                          mutually_exclusive=[("backup_id", "at_or_before")])
    try:
        result = run_restore(module.params, mode=mode, check_mode=module.check_mode, log=module.log)
        module.exit_json(**result)
    except RestoreFailed as exc:
        # the result has its own "destination" (where the backup came from): the failing one is failed_destination
        module.fail_json(msg=exc.describe(), step=exc.step, failed_destination=exc.destination, **exc.result)
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step, failed_destination=exc.destination, changed=False)
