#!/bin/sh
# The configuration (with the password) in /tmp, mode 0600; the password never appears in argv.
set -eu
umask 077
{
    echo "bind 0.0.0.0"
    echo "protected-mode no"
    echo "port 6379"
    echo "dir /data"
    echo "appendonly yes"
    echo "maxmemory ${WK_REDIS_MAXMEMORY:-48mb}"
    echo "requirepass $(cat /run/secrets/redis_password)"
} > /tmp/redis.conf
exec redis-server /tmp/redis.conf
