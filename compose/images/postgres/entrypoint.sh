#!/bin/sh
# First start: initdb with the superuser password from /run/secrets/db_admin_password, then the database
# "app" owned by the role "app" (password from /run/secrets/db_app_password). Every start: run the server
# on all addresses of the container, scram-sha-256 for every TCP client, the socket in /tmp (tmpfs).
set -eu
PGBIN=/usr/lib/postgresql/15/bin
: "${PGDATA:=/var/lib/postgresql/data}"
: "${WK_DB_NAME:=app}"
: "${WK_DB_USER:=app}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    "$PGBIN/initdb" -D "$PGDATA" -U postgres --pwfile=/run/secrets/db_admin_password -A scram-sha-256 \
        --auth-local=peer -E UTF8 --locale=C.UTF-8 >/dev/null
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    "$PGBIN/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/tmp" start >/dev/null
    # The password is read by psql from the file (\set with backticks), never put in argv.
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h /tmp -U postgres -d postgres <<SQL
\set pw \`cat /run/secrets/db_app_password\`
CREATE ROLE "$WK_DB_USER" LOGIN PASSWORD :'pw';
CREATE DATABASE "$WK_DB_NAME" OWNER "$WK_DB_USER";
SQL
    "$PGBIN/pg_ctl" -D "$PGDATA" -w -m fast stop >/dev/null
fi
exec "$PGBIN/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp \
    -c shared_buffers="${WK_PG_SHARED_BUFFERS:-32MB}" -c max_connections="${WK_PG_MAX_CONNECTIONS:-60}"
