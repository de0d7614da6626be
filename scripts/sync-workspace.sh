#!/usr/bin/env bash
# Copy the working tree (tracked and untracked-but-not-ignored files) into
# .wk/collections/ansible_collections/watchkeeper/ops and link the dependency collections.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# WK_COLLECTIONS_ROOT: another workspace root (e.g. one per developer or agent working in parallel).
COLL="${WK_COLLECTIONS_ROOT:-$ROOT/.wk/collections}/ansible_collections"
DEST="$COLL/watchkeeper/ops"
VENV="$ROOT/.venv"

rm -rf "$DEST.new"
mkdir -p "$DEST.new"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf -) | tar -xf - -C "$DEST.new"
# ansible-test lists content with git: give the copy its own repository (nothing is committed).
(cd "$DEST.new" && git init -q && git add -A)
rm -rf "$DEST"
mv "$DEST.new" "$DEST"

site=$("$VENV/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))' 2>/dev/null || true)
if [ -n "$site" ]; then
  for ns in community amazon google ansible awx grafana; do
    if [ -d "$site/ansible_collections/$ns" ] && [ ! -e "$COLL/$ns" ]; then
      ln -s "$site/ansible_collections/$ns" "$COLL/$ns"
    fi
  done
fi
