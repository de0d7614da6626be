# shellcheck shell=bash
# Source this file to use the venv and the collection workspace in your shell:
#   . scripts/env.sh
WK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$WK_ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$WK_ROOT/.wk/collections"
export WK_ROOT
