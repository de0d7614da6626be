"""Throwaway peer services on loopback for tests, the demo, molecule and the benchmarks.

Each service is a real server started as a child process and stopped by its handle:

* PostgreSQL: a private cluster (initdb + pg_ctl; through ``runuser -u postgres`` when we are
  root, because PostgreSQL refuses to run as root), password auth on 127.0.0.1;
* S3 protocol: ``moto`` server;
* GCS protocol: ``gcp-storage-emulator`` (in memory);
* SMTP: ``aiosmtpd`` writing every message into a Maildir;
* nginx: Debian's binary, not daemonised, with its own prefix and config in a throwaway directory;
* Redis: Debian's ``redis-server`` without persistence, in a throwaway directory.

One module per service (``wk_svc_postgres``, ``wk_svc_moto``, ``wk_svc_gcs``, ``wk_svc_smtp``, ``wk_svc_nginx``,
``wk_svc_redis``, and ``wk_svc_common`` for ports, processes and waiting); this module gathers them, so callers
keep one import. Used as a library (``start_postgres(...)`` etc. return a handle with ``stop()``) and as a CLI:

    python scripts/wk_services.py postgres start --dir .wk/demo/pg --port 55432
    python scripts/wk_services.py postgres stop --dir .wk/demo/pg
"""

import argparse
import json
import os
import sys

from wk_svc_common import LOOPBACK, Process, free_port, http_ok, wait_port
from wk_svc_gcs import start_gcs
from wk_svc_moto import start_moto
from wk_svc_nginx import NGINX_CONF, Nginx, start_nginx
from wk_svc_postgres import PostgresCluster, pg_bindir, start_postgres
from wk_svc_redis import start_redis
from wk_svc_smtp import start_smtp

__all__ = ["LOOPBACK", "NGINX_CONF", "Nginx", "PostgresCluster", "Process", "free_port", "http_ok", "main", "pg_bindir",
           "start_gcs", "start_moto", "start_nginx", "start_postgres", "start_redis", "start_smtp", "wait_port"]


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("service", choices=["postgres"])
    parser.add_argument("action", choices=["start", "stop", "destroy", "info"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    base = os.path.abspath(args.dir)
    if args.action == "start":
        cluster = start_postgres(base, port=args.port)
        print(json.dumps({"host": cluster.host, "port": cluster.port, "bindir": cluster.bindir,
                          "passfile": os.path.join(base, "pgpass")}))
    elif os.path.exists(os.path.join(base, "cluster.json")):
        cluster = PostgresCluster.load(base)
        if args.action == "stop":
            cluster.stop()
        elif args.action == "destroy":
            cluster.destroy()
        else:
            print(json.dumps({"host": cluster.host, "port": cluster.port, "running": cluster.running()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
