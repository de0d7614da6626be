"""nginx for ``wk_services``: Debian's binary, not daemonised, with its own prefix and config in a throwaway
directory."""

import os
import shutil
import subprocess

from wk_svc_common import LOOPBACK, Process, free_port, wait_port

NGINX_CONF = """daemon off; master_process on; worker_processes 1; %(user)s
pid %(dir)s/nginx.pid; error_log %(dir)s/error.log notice;
events { worker_connections 64; }
http {
    access_log %(dir)s/access.log;
    client_body_temp_path %(dir)s/tmp/body; proxy_temp_path %(dir)s/tmp/proxy; fastcgi_temp_path %(dir)s/tmp/fcgi;
    uwsgi_temp_path %(dir)s/tmp/uwsgi; scgi_temp_path %(dir)s/tmp/scgi;
%(http)s
    server {
        listen %(listen)s:%(port)d; server_name localhost;
%(server)s
    }
}
"""


class Nginx(Process):
    """An nginx master in the foreground; ``conf`` is its config, ``command(...)`` its argv for -t / -s."""

    def command(self, *args):
        return [self.info["binary"], "-p", self.info["prefix"], "-c", self.info["conf"]] + list(args)


def start_nginx(work_dir, http="", server="", port=None, listen=LOOPBACK):
    """nginx with ``http`` lines in its http block and ``server`` lines in one server on ``listen:port``."""
    port = port or free_port()
    os.makedirs(os.path.join(work_dir, "tmp"), exist_ok=True)
    conf = os.path.join(work_dir, "nginx.conf")
    user = "user root;" if os.geteuid() == 0 else ""
    with open(conf, "w") as handle:
        handle.write(NGINX_CONF % {"dir": work_dir, "http": http, "server": server, "port": port, "listen": listen,
                                   "user": user})
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    log = os.path.join(work_dir, "nginx.out")
    check = subprocess.run([binary, "-p", work_dir, "-c", conf, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError("nginx -t failed: %s" % check.stderr)
    proc = Nginx("nginx", [binary, "-p", work_dir, "-c", conf], log, port=port, binary=binary, prefix=work_dir,
                 conf=conf, url="http://%s:%d" % (LOOPBACK, port))
    wait_port(port, proc=proc.proc, name="nginx", log=os.path.join(work_dir, "error.log"))
    return proc
