#!/bin/sh
# Render the configuration into /tmp (tmpfs; the root filesystem is read-only), test it, run nginx.
#   WK_APP_HOST   the app replicas' DNS name on the stack network (default app)
#   WK_PAGE_HOST  the maintenance page container's name (default watchkeeper-maintenance)
set -eu
mkdir -p /tmp/nginx
sed -e "s/@APP_HOST@/${WK_APP_HOST:-app}/g" -e "s/@PAGE_HOST@/${WK_PAGE_HOST:-watchkeeper-maintenance}/g" \
    /etc/nginx/watchkeeper/nginx.conf.in > /tmp/nginx/nginx.conf
nginx -t -q -c /tmp/nginx/nginx.conf
exec nginx -c /tmp/nginx/nginx.conf -g "daemon off;"
