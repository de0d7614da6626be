#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12/13 machine: Debian packages, a venv with the
# card's Python packages, and the collection placed where ansible and ansible-test find it.
# Safe to run again: each step checks before it acts.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WK="$ROOT/.wk"
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}

log() { printf '==> %s\n' "$*"; }

# 1. Debian packages (by name; versions are detected at run time).
# docker.io and mmdebstrap: the project's own Docker Engine and the fleet images (scripts/wk_engine.py, wk_images.py).
# prometheus: promtool, for the unit tests of the monitoring role's alert rules (its daemon is not started).
# prometheus-alertmanager: started on loopback by the dashboards' alert test (no service is started by the package).
# wrk: the load generator of bench/load.py and of the load_management test.
APT_PACKAGES=(postgresql postgresql-client postgresql-contrib gnupg zstd sqlite3 jq git ca-certificates python3-venv shellcheck
              chromium nginx redis-server docker.io mmdebstrap openssh-client prometheus prometheus-alertmanager wrk)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# ansible-rulebook (the collection's EDA rulebook, extensions/eda) runs Drools through jpy on a Java >= 17 runtime:
# Debian's default JRE (17 on Debian 12, 21 on Debian 13), installed only when no java >= 17 is on PATH. ansible-rulebook
# finds JAVA_HOME itself from that java (java.home) when JAVA_HOME is unset.
java_major=$( (java -XshowSettings:properties -version 2>&1 || true) | sed -n 's/^ *java.specification.version = //p' | head -n1 | cut -d. -f1)
if ! [[ "$java_major" =~ ^[0-9]+$ ]] || ((java_major < 17)); then
  missing+=(default-jre-headless)
fi
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. The venv, rebuilt only when requirements.txt changed.
req_sum=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$req_sum" ]; then
  log "creating venv $VENV"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt"
  echo "$req_sum" > "$VENV/.requirements.sha256"
fi

# 2b. checkov (the policy check of terraform/, tests/unit/terraform) pins many packages of its own: its own venv.
CHECKOV_VENV="$WK/checkov-venv"
if [ ! -x "$CHECKOV_VENV/bin/checkov" ]; then
  log "installing checkov into $CHECKOV_VENV"
  mkdir -p "$WK"
  [ -x "$CHECKOV_VENV/bin/python" ] || "$PYTHON" -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip > "$WK/checkov-install.log" 2>&1
  "$CHECKOV_VENV/bin/python" -m pip install -q --disable-pip-version-check "checkov>=3.2" >> "$WK/checkov-install.log" 2>&1 \
    || { tail -n 20 "$WK/checkov-install.log"; exit 1; }
fi

# 3. The collection workspace: .wk/collections/ansible_collections/watchkeeper/ops is a real
#    copy of the tracked tree (ansible-test refuses symlinks), with the dependency collections
#    from the `ansible` package linked beside it (ansible-test only looks in the same root).
"$ROOT/scripts/sync-workspace.sh"
log "setup done (venv: $VENV, collections: $WK/collections)"
