#!/usr/bin/env bash
# README command two: set everything up (idempotently), then run every test suite.
#   scripts/test.sh                 all stages
#   scripts/test.sh unit sanity     only the named stages
#   WK_TEST_WORKERS=1 scripts/test.sh integration   integration tests in one process (default: 2 workers)
# Stages run from the workspace copy .wk/collections/ansible_collections/watchkeeper/ops, which is
# what ansible-test requires and what users get from `ansible-galaxy collection install`.
# shellcheck disable=SC2317  # the stage_* functions are called indirectly
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALL_STAGES=(unit integration sanity docs lint molecule)
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=("${ALL_STAGES[@]}")

"$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"
export WK_COLLECTIONS_PATH="${WK_COLLECTIONS_ROOT:-$ROOT/.wk/collections}"
WS="$WK_COLLECTIONS_PATH/ansible_collections/watchkeeper/ops"
export ANSIBLE_COLLECTIONS_PATH="$WK_COLLECTIONS_PATH"
PYVER=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
declare -A RESULT
START_ALL=$(date +%s)

# The Docker Engine (a running one, else the project's own dockerd, stopped again at the end) and
# the fleet images, for the stages that run containers. A second run reuses the images.
case " ${STAGES[*]} " in
  *" integration "*|*" molecule "*)
    engine_was_up=0
    python "$ROOT/scripts/wk_engine.py" status >/dev/null 2>&1 && engine_was_up=1
    DOCKER_HOST=$(python "$ROOT/scripts/wk_engine.py" start | sed 's/^DOCKER_HOST=//')
    export DOCKER_HOST
    [ "$engine_was_up" = 1 ] || trap 'python "$ROOT/scripts/wk_engine.py" stop >/dev/null' EXIT
    t0=$(date +%s)
    python "$ROOT/scripts/wk_images.py" build
    WK_FLEET_IMAGE=$(python "$ROOT/scripts/wk_images.py" show | python -c 'import json,sys; print(json.load(sys.stdin)["fleet"])')
    export WK_FLEET_IMAGE
    echo "engine and images ready in $(( $(date +%s) - t0 ))s (DOCKER_HOST=$DOCKER_HOST, image $WK_FLEET_IMAGE)"
    ;;
esac

stage_unit() { (cd "$WS" && python -m pytest tests/unit -q -p no:cacheprovider); }

# Two workers (the machines have 2 cores): each starts its own PostgreSQL, moto, GCS emulator and SMTP server.
# --dist loadfile keeps a module on one worker, so a module-scoped fleet is started once.
stage_integration() { (cd "$WS" && python -m pytest tests/integration -q -p no:cacheprovider -n "${WK_TEST_WORKERS:-2}" --dist loadfile --durations=12); }

stage_sanity() {
  # ansible-test builds a venv per sanity test and bootstraps pip with a script it downloads
  # from ci-files.testing.ansible.com, which machines limited to package registries cannot reach: use
  # our stand-in (ensurepip + PyPI) unless a real one is cached.
  local pip_version cache
  pip_version=$(python - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
  cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  [ -f "$cache" ] || { mkdir -p "$(dirname "$cache")"; cp "$ROOT/scripts/ansible_test_pip_bootstrap.py" "$cache"; }
  (cd "$WS" && ansible-test sanity --local --python "$PYVER" --color no)
}

stage_docs() {
  local module fail=0
  for module in "$WS"/plugins/modules/*.py; do
    module=$(basename "$module" .py)
    if ansible-doc "watchkeeper.ops.$module" > "$ROOT/.wk/ansible-doc-$module.txt"; then
      echo "ansible-doc watchkeeper.ops.$module: $(wc -l < "$ROOT/.wk/ansible-doc-$module.txt") lines"
    else
      echo "ansible-doc watchkeeper.ops.$module FAILED"; fail=1
    fi
  done
  return "$fail"
}

# ansible-lint (through ansible-core) reads and writes ANSIBLE_HOME (~/.ansible by default: tmp, collections, roles,
# galaxy caches): give every run a home of its own, removed afterwards, so the user's ~/.ansible is never read or
# written and two runs at once do not share one (its project cache is .ansible in the workspace copy).
stage_lint() {
  (
    lint_home=$(mktemp -d "${TMPDIR:-/tmp}/wk-lint-home.XXXXXX")
    trap 'rm -rf "$lint_home"' EXIT
    cd "$WS" && ANSIBLE_HOME="$lint_home" ansible-lint --profile production --offline
  )
}

# Molecule scenarios on the docker driver (molecule/README.md), one after the other (each has its own container
# and network; the default scenario proves the platform first); a failed scenario does not stop the next ones.
stage_molecule() {
  local scenario t0 fail=0 times=()
  for scenario in default backup recovery retention maintenance logging audits load_management; do
    t0=$(date +%s)
    if (cd "$WS" && molecule test -s "$scenario"); then
      times+=("$scenario passed ($(( $(date +%s) - t0 ))s)")
    else
      times+=("$scenario FAILED ($(( $(date +%s) - t0 ))s)"); fail=1
    fi
  done
  printf 'molecule %s\n' "${times[@]}"
  return "$fail"
}

failed=0
for stage in "${STAGES[@]}"; do
  echo "=================== $stage ==================="
  t0=$(date +%s)
  if "stage_$stage"; then RESULT[$stage]="passed"; else RESULT[$stage]="FAILED"; failed=1; fi
  RESULT[$stage]="${RESULT[$stage]} ($(( $(date +%s) - t0 ))s)"
done
echo "=================== summary ($(( $(date +%s) - START_ALL ))s) ==================="
for stage in "${STAGES[@]}"; do printf '%-12s %s\n' "$stage" "${RESULT[$stage]}"; done
exit $failed
