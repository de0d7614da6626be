#!/usr/bin/env bash
# The README demo: back up a PostgreSQL database, an SQLite file and an uploads tree, encrypted to a
# demo key, to the local destination .wk/demo/backups (role watchkeeper.ops.backup), then prove each
# backup restores (role watchkeeper.ops.dr_drill: restore_verify into scratch space, drill report).
#   scripts/demo.sh          set up (idempotent), then run one more backup of every job
#   scripts/demo.sh --clean  stop the demo PostgreSQL and remove .wk/demo
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO="$ROOT/.wk/demo"
START=$(date +%s)
log() { printf '==> %s\n' "$*"; }

if [ "${1:-}" = "--clean" ]; then
  if [ -f "$DEMO/pg/cluster.json" ]; then
    log "stopping the demo PostgreSQL"
    "$ROOT/.venv/bin/python" "$ROOT/scripts/wk_services.py" postgres stop --dir "$DEMO/pg"
  fi
  if [ -d "$DEMO/gnupg" ]; then gpgconf --homedir "$DEMO/gnupg" --kill gpg-agent 2>/dev/null || true; fi
  rm -rf "$DEMO"
  log "removed $DEMO"
  exit 0
fi

"$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"
mkdir -p "$DEMO/backups"
cd "$ROOT"

# 1. A throwaway PostgreSQL (re-attached when it exists) with the demo database.
log "starting the demo PostgreSQL in $DEMO/pg"
PG_JSON=$(python scripts/wk_services.py postgres start --dir "$DEMO/pg")
PG_BIN=$(python -c 'import json,sys; print(json.loads(sys.argv[1])["bindir"])' "$PG_JSON")
export PGHOST=127.0.0.1 PGUSER=postgres PGPASSFILE="$DEMO/pg/pgpass"
PGPORT=$(python -c 'import json,sys; print(json.loads(sys.argv[1])["port"])' "$PG_JSON")
export PGPORT
psql_q() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = 'demo_app'")" = 1 ] &&
   [ "$(psql_q -d demo_app -c "SELECT to_regclass('public.events') IS NOT NULL")" = t ]; then
  log "database demo_app is ready"
else
  log "creating database demo_app (pgbench -s 10, users, orders, 100k events)"
  psql_q -d postgres -c "DROP DATABASE IF EXISTS demo_app" -c "CREATE DATABASE demo_app"
  "$PG_BIN/pgbench" -i -s 10 -q demo_app 2>&1 | tail -1
  psql_q -d demo_app -f scripts/demo_data.sql
fi

# 2. An SQLite database and an uploads tree (a new upload on every later run).
python scripts/demo_files.py "$DEMO"

# 3. The recipient's key pair: the private key stays in .wk/demo/gnupg, the backup gets the public key.
if [ ! -s "$DEMO/demo-recipient.pub.asc" ]; then
  log "generating the demo GnuPG key pair in $DEMO/gnupg"
  mkdir -p "$DEMO/gnupg" && chmod 700 "$DEMO/gnupg"
  # gpg-agent's socket lives in the home directory and a socket path is limited to 107 bytes:
  # reach a home in a deep checkout through a short link.
  ghome="$DEMO/gnupg"
  if [ ${#ghome} -gt 80 ]; then
    ghome="/tmp/wk-demo-gnupg-$(printf '%s' "$DEMO" | sha1sum | cut -c1-12)"
    ln -sfn "$DEMO/gnupg" "$ghome"
  fi
  gpg --homedir "$ghome" --batch --pinentry-mode loopback --passphrase '' --quiet \
    --quick-gen-key 'watchkeeper demo recipient <demo@watchkeeper.invalid>' future-default default never
  gpg --homedir "$ghome" --armor --export > "$DEMO/demo-recipient.pub.asc"
  gpgconf --homedir "$ghome" --kill gpg-agent
fi
if [ ! -s "$DEMO/demo-recipient.sec.asc" ]; then
  # The drill runner's copy of the private key (demo only: in production it never sits beside the backups).
  ghome="$DEMO/gnupg"
  [ ${#ghome} -le 80 ] || ghome="/tmp/wk-demo-gnupg-$(printf '%s' "$DEMO" | sha1sum | cut -c1-12)"
  [ -e "$ghome" ] || ln -sfn "$DEMO/gnupg" "$ghome"
  (umask 077 && gpg --homedir "$ghome" --batch --armor --export-secret-keys > "$DEMO/demo-recipient.sec.asc")
  gpgconf --homedir "$ghome" --kill gpg-agent
fi

# 4. The backups, then the drill (restore_verify of every job, drill report), with the playbooks AWX runs.
log "ansible-playbook -i inventories/demo playbooks/demo.yml"
ansible-playbook -i inventories/demo playbooks/demo.yml
report=$(find "$DEMO/state/reports/dr_drill" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort | tail -1)
# 5. Retention, as a dry run: which backups the demo policy would remove, and why the others stay.
log "ansible-playbook -i inventories/demo playbooks/retention.yml --check"
ansible-playbook -i inventories/demo playbooks/retention.yml --check

cat <<EOF

==> demo done in $(($(date +%s) - START)) s. Where everything is:
  backups (destination "local")   $DEMO/backups/<job>/YYYY/MM/DD/<backup id>.*
  recipient public key (given)    $DEMO/demo-recipient.pub.asc, installed in $DEMO/keys
  recipient private key (kept)    $DEMO/gnupg, and the drill runner's copy $DEMO/demo-recipient.sec.asc
                                  (never given to the backup)
  job locks, incremental index    $DEMO/state
  drill report (open in a browser) ${report}/report.html  (and report.json, runbooks/<job>.md)
  dashboards (open in a browser)   $DEMO/site/index.html, maintenance.html, dr.html (and dashboard.json)
  retention plan (dry run)        the table above; without --check, playbooks/retention.yml purges
  demo sources                    PostgreSQL demo_app on 127.0.0.1:$PGPORT, $DEMO/app.sqlite3, $DEMO/uploads

Restore by hand (README section "Restoring by hand"), for example the newest database dump:
  export GNUPGHOME=$DEMO/gnupg
  dump=\$(ls $DEMO/backups/demo-db/*/*/*/*.pgdump.zst.gpg | sort | tail -1)
  gpg --decrypt "\$dump" | zstd -d > /tmp/demo_app.pgdump && $PG_BIN/pg_restore --list /tmp/demo_app.pgdump | head
Run scripts/demo.sh again for a second backup of each job; scripts/demo.sh --clean removes it all.
EOF
