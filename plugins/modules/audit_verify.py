#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: audit_verify
short_description: Verify the audit trail written by the watchkeeper.ops.audit callback
version_added: 1.0.0
description:
  - Re-walks every chain of the trail in O(destination) (the controller's spool, a directory such as the
    C(ops_state) location, or a bucket) and checks every record's hash, the contiguity of C(seq), every
    C(prev_hash) link, every checkpoint's signature, the chain of checkpoints and each sealed segment against its
    checkpoint.
  - Names the first broken place (segment file, line, seq, or checkpoint file) for a modified, deleted, inserted
    or reordered record, a segment truncated behind its checkpoint, a missing segment, and a checkpoint that is
    unsigned, badly signed or signed by an unknown key.
  - Returns the coverage (time ranges of verified records per chain) and the gaps (missing seq ranges).
  - Records appended after the last checkpoint (the open segment of a spool) are verified as a chain but no
    signature vouches for them yet; they are counted in RV(chains) as C(unsealed_records).
author:
  - Watchkeeper Ops maintainers (@watchkeeper)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - watchkeeper.ops.destination.single
attributes:
  check_mode:
    support: full
    details: Reads only; behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  prefix:
    description:
      - Where the trail starts inside O(destination). V(audit) for what the callback ships (its C(ship_prefix)),
        the empty string for the spool directory itself.
    type: str
    default: audit
  hmac_key_files:
    description: HMAC key files whose checkpoints are trusted (the callback's C(hmac_key_file) or C(checkpoint.key)).
    type: list
    elements: path
    default: []
  gpg_home:
    description: GnuPG home whose public keys are trusted for checkpoints signed with GnuPG.
    type: path
  gpg_fingerprints:
    description: Trust only these GnuPG key fingerprints from O(gpg_home); empty trusts every key of the keyring.
    type: list
    elements: str
    default: []
  chains:
    description: Verify only these chain ids (missing ones are an error); empty verifies every chain found.
    type: list
    elements: str
    default: []
  sealed_only:
    description: Treat records after the last checkpoint (an unsealed open segment) as a break.
    type: bool
    default: false
  fail_on_break:
    description: Fail the task when the trail is not intact (or holds no chain at all).
    type: bool
    default: true
  workers:
    description:
      - Processes that scan the segments of a local trail side by side; V(0) uses one per CPU. Segments in a bucket
        are read one after the other.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Verify the trail shipped to the ops_state directory
  watchkeeper.ops.audit_verify:
    destination:
      type: local
      path: /var/lib/watchkeeper
    hmac_key_files: [/etc/watchkeeper/audit-checkpoint.key]

- name: Verify the trail in an S3 bucket, report instead of failing
  watchkeeper.ops.audit_verify:
    destination:
      type: s3
      bucket: audit-trail
      region: eu-west-1
    gpg_home: /etc/watchkeeper/audit-gnupg
    gpg_fingerprints: ["0123456789ABCDEF0123456789ABCDEF01234567"]
    fail_on_break: false
  register: trail

- name: Verify this controller's own spool
  watchkeeper.ops.audit_verify:
    destination:
      type: local
      path: ~/.ansible/watchkeeper/audit
    prefix: ""
    hmac_key_files: [~/.ansible/watchkeeper/audit/checkpoint.key]
"""

RETURN = r"""
ok:
  description: Whether every chain verified without a break.
  returned: always
  type: bool
first_break:
  description:
    - The first break of the first broken chain, or null. C(where) names the segment or checkpoint file (relative to
      the chain), C(line) and C(seq) the record when one is involved, C(reason) what is wrong.
  returned: always
  type: dict
  sample: {"chain": "8ac2...", "where": "segments/000000000001.jsonl", "line": 17, "seq": 17,
           "reason": "record seq 17 (line 17) was modified: its hash does not match its content"}
records:
  description: Records verified in all chains.
  returned: always
  type: int
chains:
  description: Per chain, C(chain), C(ok), C(records), C(segments), C(checkpoints), C(sealed_seq), C(head_seq),
    C(unsealed_records), C(coverage), C(gaps), C(breaks) and C(first_break).
  returned: always
  type: list
  elements: dict
coverage:
  description: Time ranges of verified records, C({chain, from, to, first_seq, last_seq}).
  returned: always
  type: list
  elements: dict
gaps:
  description: Missing seq ranges, C({chain, from_seq, to_seq, after, before}) with the times around them.
  returned: always
  type: list
  elements: dict
missing_chains:
  description: Chains named in O(chains) that the trail does not hold.
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.sign import Verifier, read_key_file
from ansible_collections.watchkeeper.ops.plugins.module_utils.audit.verify import verify
from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATION_SPEC
from ansible_collections.watchkeeper.ops.plugins.module_utils.errors import WatchkeeperError
from ansible_collections.watchkeeper.ops.plugins.module_utils.storage.factory import open_storage


def describe_break(brk):
    where = "chain %s, %s" % (brk["chain"], brk["where"])
    return "audit trail broken at %s: %s" % (where, brk["reason"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            destination=dict(DESTINATION_SPEC),
            prefix=dict(type="str", default="audit"),
            hmac_key_files=dict(type="list", elements="path", default=[], no_log=False),
            gpg_home=dict(type="path"),
            gpg_fingerprints=dict(type="list", elements="str", default=[]),
            chains=dict(type="list", elements="str", default=[]),
            sealed_only=dict(type="bool", default=False),
            fail_on_break=dict(type="bool", default=True),
            workers=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    spec = dict(params["destination"])
    spec["name"] = spec.get("name") or spec["type"]
    storage = None
    try:
        verifier = Verifier([read_key_file(p) for p in params["hmac_key_files"]], params["gpg_home"], params["gpg_fingerprints"])
        storage = open_storage(spec)
        workers = params["workers"] if params["workers"] > 0 else (os.cpu_count() or 1)
        result = verify(storage, params["prefix"], verifier, chains=params["chains"], sealed_only=params["sealed_only"],
                        workers=workers)
    except WatchkeeperError as exc:
        module.fail_json(msg=exc.describe(), step=exc.step, destination=spec["name"], ok=False)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the audit trail: %s" % exc, ok=False)
    finally:
        if storage is not None:
            storage.close()
    if params["fail_on_break"] and not result["ok"]:
        if result["first_break"]:
            msg = describe_break(result["first_break"])
        elif result["missing_chains"]:
            msg = "audit trail has no chain %s" % ", ".join(result["missing_chains"])
        else:
            msg = "no audit chain found under prefix %r of %s" % (params["prefix"], spec["name"])
        module.fail_json(msg=msg, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
