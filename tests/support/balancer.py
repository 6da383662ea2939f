"""A real load balancer for tests: Debian's HAProxy in front of app replicas."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.server import free_port, wait_until

HAPROXY = "/usr/sbin/haproxy"

CONFIG = """
global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option redispatch
    retries 2
frontend dashboard
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 300ms fall 2 rise 2 on-marked-down shutdown-sessions
{servers}
"""


@contextmanager
def balancer(ports: Sequence[int]) -> Iterator[str]:
    """HAProxy on a free port, round-robin over the replicas at ``ports``; yields its base URL."""
    servers = "\n".join(f"    server app{i} 127.0.0.1:{p} check" for i, p in enumerate(ports))
    with _haproxy(lambda port: CONFIG.format(port=port, servers=servers), "") as url:
        yield url


@contextmanager
def _haproxy(config: Callable[[int], str], ready_path: str) -> Iterator[str]:
    """HAProxy running ``config(port)`` on a free port, once ``ready_path`` answers through it; yields its base URL."""
    if shutil.which(HAPROXY) is None:
        pytest.fail(f"{HAPROXY} is missing: install Debian's haproxy package (apt-get install haproxy)")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "haproxy.cfg"
        cfg.write_text(config(port))
        log = (Path(tmp) / "haproxy.log").open("wb")
        proc = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _answers(url + ready_path), timeout=15)
            yield url
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


PREFIXED = """
global
    maxconn 200
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend site
    bind 127.0.0.1:{port}
    # The site's other pages would be here; the dashboard is published under {prefix}/.
    http-request redirect location {prefix}/ code 301 if {{ path {prefix} }}
    use_backend dashboard if {{ path_beg {prefix}/ }}
backend dashboard
    # Strip the prefix: the app sees /, /api/..., /ws (ROOT_PATH tells it the prefix).
    http-request replace-path {prefix}(/.*) \\1
    server app 127.0.0.1:{app_port}
"""


@contextmanager
def prefixed_proxy(app_port: int, prefix: str) -> Iterator[str]:
    """HAProxy on a free port publishing the app at ``prefix``/ and stripping the prefix; yields its base URL."""
    with _haproxy(lambda port: PREFIXED.format(port=port, prefix=prefix, app_port=app_port), prefix) as url:
        yield url
