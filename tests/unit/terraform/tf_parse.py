# -*- coding: utf-8 -*-
# Copyright: (c) 2026, watchkeeper.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse terraform/ with python-hcl2: files, modules (resources, variables, outputs, locals by name) and the IAM
policy documents inside them. The checks of the security properties are in ``tf_checks``."""

import fnmatch
import glob
import json
import os
import re

import hcl2
from hcl2 import SerializationOptions

OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


class TerraformParseError(Exception):
    pass


def parse_file(path):
    with open(path, "r", encoding="utf-8") as handle:
        text = handle.read()
    try:
        return hcl2.loads(text, serialization_options=OPTIONS)
    except Exception as exc:  # pylint: disable=broad-except
        raise TerraformParseError("%s does not parse: %s" % (path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))


def tf_files(root):
    return sorted(glob.glob(os.path.join(root, "**", "*.tf"), recursive=True))


class Module(object):
    """Every block of one module directory, by kind: resources[type][name], data[type][name], locals, variables."""

    def __init__(self, directory):
        self.directory = directory
        self.resources, self.data, self.locals, self.variables, self.modules = {}, {}, {}, {}, {}
        files = sorted(glob.glob(os.path.join(directory, "*.tf")))
        if not files:
            raise TerraformParseError("no .tf file in %s" % directory)
        for path in files:
            doc = parse_file(path)
            for block in doc.get("resource", []):
                self._add(self.resources, block)
            for block in doc.get("data", []):
                self._add(self.data, block)
            for block in doc.get("locals", []):
                self.locals.update(block)
            for block in doc.get("variable", []):
                self.variables.update(block)
            for block in doc.get("module", []):
                self.modules.update(block)

    @staticmethod
    def _add(table, block):
        for kind, named in block.items():
            for name, body in named.items():
                table.setdefault(kind, {})[name] = body

    def resource(self, kind, name):
        return self.resources.get(kind, {}).get(name)

    def resolve(self, value):
        """A list of strings for ``value`` (a list, ``${local.x}``, ``${concat(...)}``), or None when unknown."""
        if isinstance(value, list):
            out = []
            for item in value:
                resolved = self.resolve(item) if isinstance(item, str) and _is_list_expr(item) else [item]
                if resolved is None:
                    return None
                out.extend(resolved)
            return out
        if not isinstance(value, str):
            return None
        expr = value[2:-1].strip() if value.startswith("${") and value.endswith("}") else value
        match = re.match(r"^local\.([A-Za-z0-9_]+)$", expr)
        if match:
            target = self.locals.get(match.group(1))
            return None if target is None or target == value else self.resolve(target if isinstance(target, list) else target)
        match = re.match(r"^concat\((.*)\)$", expr, re.S)
        if match:
            out = []
            for arg in _split_args(match.group(1)):
                arg = arg.strip()
                part = json.loads(arg) if arg.startswith("[") and _is_json(arg) else self.resolve("${%s}" % arg)
                if part is None:
                    return None
                out.extend(part)
            return out
        return None


def _is_list_expr(text):
    return text.startswith("${") and ("local." in text or "concat(" in text)


def _is_json(text):
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def _split_args(text):
    args, depth, current = [], 0, ""
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            args.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        args.append(current)
    return args


def blk(body, key):
    """The (first) nested block ``key`` of ``body`` as a dict ({} when absent); the parser gives blocks as lists."""
    value = (body or {}).get(key)
    if isinstance(value, list):
        value = value[0] if value and isinstance(value[0], dict) else None
    return value if isinstance(value, dict) else {}


def _listify(value):
    return value if isinstance(value, list) else ([] if value is None else [value])


def statements(doc):
    """Every statement of an aws_iam_policy_document, dynamic ones included (their content)."""
    out = list(_listify(doc.get("statement")))
    for dyn in _listify(doc.get("dynamic")):
        body = dyn.get("statement")
        if body:
            out.extend(_listify(body.get("content")))
    return out


def action_matches(pattern, action):
    """Whether an IAM action pattern (with * and ?) covers ``action`` (case-insensitive, as IAM compares)."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())
