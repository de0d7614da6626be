"""The destination doc fragment and DESTINATION_OPTIONS describe the same options (validate-modules only
checks the modules that use the fragment, this keeps both fragment variants in step as well)."""

import yaml

from ansible_collections.watchkeeper.ops.plugins.doc_fragments.destination import ModuleDocFragment
from ansible_collections.watchkeeper.ops.plugins.module_utils.common_args import DESTINATION_OPTIONS


def suboptions(text, option):
    return yaml.safe_load(text)["options"][option]["suboptions"]


def test_both_variants_document_the_same_suboptions():
    assert suboptions(ModuleDocFragment.DOCUMENTATION, "destinations") == suboptions(ModuleDocFragment.SINGLE, "destination")


def test_fragment_matches_the_argument_spec():
    docs = suboptions(ModuleDocFragment.DOCUMENTATION, "destinations")
    assert sorted(docs) == sorted(DESTINATION_OPTIONS)
    for name, spec in DESTINATION_OPTIONS.items():
        doc = docs[name]
        assert doc.get("type", "str") == spec.get("type", "str"), name
        assert doc.get("default") == spec.get("default"), name
        assert doc.get("choices") == spec.get("choices"), name
        assert bool(doc.get("required")) == bool(spec.get("required")), name
