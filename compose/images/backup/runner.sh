#!/bin/sh
# wk-stack-backup loop     every WK_BACKUP_INTERVAL seconds (default 86400) a backup; a heartbeat every 10 s
# wk-stack-backup once     one backup now (exit status of the run)
# wk-stack-backup verify   restore_verify of the newest backup into a scratch database on the stack's PostgreSQL
# wk-stack-backup health   the healthcheck: the loop is alive and the last backup (if any) did not fail
set -u
STATE=/tmp/wk-stack-backup
run() {
    mkdir -p "$STATE"
    ansible-playbook -i localhost, -c local "/etc/watchkeeper/stack/$1.yml"
}
case "${1:-loop}" in
    once)
        mkdir -p "$STATE"
        if run backup; then rm -f "$STATE/failed"; date +%s > "$STATE/last_ok"; else touch "$STATE/failed"; exit 1; fi
        ;;
    verify)
        run verify
        ;;
    health)
        [ -f "$STATE/alive" ] && [ $(( $(date +%s) - $(stat -c %Y "$STATE/alive") )) -lt 60 ] && [ ! -f "$STATE/failed" ]
        ;;
    loop)
        trap 'exit 0' TERM INT
        mkdir -p "$STATE"
        interval=${WK_BACKUP_INTERVAL:-86400}
        next=$(( $(date +%s) + interval ))
        while :; do
            touch "$STATE/alive"
            if [ "$(date +%s)" -ge "$next" ]; then
                "$0" once
                next=$(( $(date +%s) + interval ))
            fi
            sleep 10 & wait $!
        done
        ;;
    *)
        echo "usage: wk-stack-backup loop|once|verify|health" >&2
        exit 2
        ;;
esac
