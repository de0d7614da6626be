#!/bin/sh
# PING with the password from the secret (REDISCLI_AUTH, not argv).
REDISCLI_AUTH=$(cat /run/secrets/redis_password) redis-cli -h 127.0.0.1 ping | grep -qx PONG
