"""Run ``deploy/nginx.conf`` -- the load balancer of the department deployment -- on the
loopback interface, in front of replicas started by :mod:`devtools.local_server`.

The compose file (``deploy/docker-compose.yml``) runs the same configuration in a
container, with the replicas reachable as ``app1:8501`` .. ``app3:8501``. Where Docker is
not available (as here), this runs Debian's nginx with that file unchanged except for two
things a container provides: the ``server`` lines of the upstream point at the given
loopback addresses, and ``listen 80`` becomes a free loopback port. Everything else --
cookie routing, consistent hashing, WebSocket upgrade, failover, health check -- is the
file as deployed. Used by the browser test of the deployment
(``tests/browser/test_deploy_nginx_browser.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from devtools.local_server import ROOT, free_port

__all__ = ["NGINX_CONF", "NginxUnavailable", "find_nginx", "render_config", "LocalNginx"]

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
_UPSTREAM_SERVER = re.compile(r"^(\s*)server\s+app\d+:8501(\s[^;]*)?;", re.MULTILINE)
_LISTEN = re.compile(r"^(\s*)listen\s+80;", re.MULTILINE)


class NginxUnavailable(RuntimeError):
    """No nginx binary (Debian package ``nginx``)."""


def find_nginx() -> str:
    """Path of the nginx binary; raises :class:`NginxUnavailable` naming the package."""
    found = shutil.which("nginx")
    if found is None and os.path.exists("/usr/sbin/nginx"):
        found = "/usr/sbin/nginx"
    if not found:
        raise NginxUnavailable("nginx is not installed (apt-get install -y nginx)")
    return found


def render_config(text: str, upstreams: list[str], port: int) -> str:
    """``deploy/nginx.conf`` for loopback replicas.

    Parameters
    ----------
    text : str
        The configuration as deployed.
    upstreams : list of str
        ``host:port`` of each replica, in place of ``app1:8501`` .. (as many as given; the
        file's further servers are dropped).
    port : int
        Port to listen on (127.0.0.1), in place of 80.

    Raises
    ------
    ValueError
        When the file no longer has the ``server appN:8501`` lines or ``listen 80`` this
        relies on (so a changed deployment file cannot silently be tested as something
        else).
    """
    servers = list(_UPSTREAM_SERVER.finditer(text))
    if len(servers) < len(upstreams) or not _LISTEN.search(text):
        raise ValueError("deploy/nginx.conf has no 'server appN:8501' lines or 'listen 80'")
    replaced = iter(upstreams)

    def server(match: re.Match) -> str:
        address = next(replaced, None)
        if address is None:
            return ""
        return f"{match.group(1)}server {address}{match.group(2) or ''};"

    text = _UPSTREAM_SERVER.sub(server, text)
    return _LISTEN.sub(rf"\g<1>listen 127.0.0.1:{port};", text, count=1)


class LocalNginx:
    """nginx with the deployment's configuration in a throwaway prefix directory.

    Parameters
    ----------
    upstreams : list of str
        ``host:port`` of the replicas.
    """

    def __init__(self, upstreams: list[str]) -> None:
        self.binary = find_nginx()
        self.port = free_port()
        self.prefix = Path(tempfile.mkdtemp(prefix="igmeta-nginx-"))
        self.process: subprocess.Popen | None = None
        site = render_config(NGINX_CONF.read_text(), upstreams, self.port)
        temp = self.prefix / "temp"
        temp.mkdir()
        main = f"""
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format routed '$status $upstream_addr $cookie_igmeta_route $request';
    access_log {self.prefix}/access.log routed;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""
        (self.prefix / "nginx.conf").write_text(main)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def check(self) -> None:
        """``nginx -t`` on the rendered configuration (raises with nginx's message)."""
        result = subprocess.run(
            [self.binary, "-t", "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"nginx rejected deploy/nginx.conf: {result.stderr.strip()}")

    def start(self, timeout: float = 20.0) -> None:
        """Check the configuration, start nginx in the foreground, wait for ``/lb-health``."""
        self.check()
        self.process = subprocess.Popen(
            [
                self.binary,
                "-p",
                str(self.prefix),
                "-c",
                str(self.prefix / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx stopped: {self.process.stderr.read().decode()}")
            try:
                with urllib.request.urlopen(f"{self.url}/lb-health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("nginx did not answer /lb-health in time")

    def stop(self) -> None:
        """Stop nginx and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.prefix, ignore_errors=True)

    def access_log(self) -> str:
        """What nginx logged so far: per request, status, the replica(s) it went to, the
        route cookie the browser sent and the request line."""
        path = self.prefix / "access.log"
        return path.read_text() if path.exists() else ""
