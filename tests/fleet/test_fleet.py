"""A fleet shares one token: 32 Python processes and 8 Node processes (real OS processes, the
built wheel and the built npm addon) on one real redis-server, against the local Twilio server.

Run by `.ci/run` (stage `fleet`) with the Python of python/ci.sh:

    TWILIO_OAUTH_MOCK=target/debug/twilio-oauth-mock target/python-ci/venv/bin/pytest tests/fleet

Tokens live 3 s on the server; the client believes 2 s of them (JWT times are whole seconds and
the core gives one back) and refreshes a quarter of a second ahead: one token request per
`REFRESH_EVERY` for the whole fleet is the goal, against one per process without Redis.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MOCK = Path(
    os.environ.get("TWILIO_OAUTH_MOCK", ROOT / "target" / "debug" / "twilio-oauth-mock")
)
CLIENT_ID = "OQ0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "mock-client-secret-0123456789"
KEY_B64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
LIFETIME = 3
REFRESH_AHEAD = 0.25
# The client's lifetime (2 s) less the refresh-ahead: how often the fleet needs a new token.
REFRESH_EVERY = (LIFETIME - 1) - REFRESH_AHEAD
PYTHONS, NODES = 32, 8
# Time for 40 interpreters to start before they all begin together.
STARTUP = 4.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mock:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(MOCK), "--port", "0", "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip().removeprefix("listening on ")

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def token_requests(self) -> int:
        return int(self.admin("GET", "/admin/stats")["requests"].get("/v2/token", 0))

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def cli(self, *args: str) -> str:
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


@pytest.fixture
def mock() -> Iterator[Mock]:
    m = Mock()
    m.admin("POST", "/admin/config", {"token_lifetime_secs": LIFETIME})
    yield m
    m.stop()


@pytest.fixture
def redis() -> Iterator[Redis]:
    r = Redis()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


def spawn_workers(
    mock: Mock,
    *,
    seconds: float,
    prefix: str,
    pythons: int,
    nodes: int = 0,
    redis_url: str | None = None,
    store_path: str | None = None,
) -> list[subprocess.Popen[str]]:
    """Worker processes (worker.py, worker.mjs) that ask for a token every 20 ms for `seconds`,
    all starting at the same moment, on Redis, a shared token file, or neither."""
    spec = {
        "base_url": mock.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redis_url": redis_url,
        "store_path": store_path,
        "key_prefix": prefix,
        "encryption_key": KEY_B64,
        "lock_ttl": 3.0,
        "refresh_ahead": REFRESH_AHEAD,
        "seconds": seconds,
        "interval": 0.02,
        "start_at": time.time() + STARTUP,
    }
    arg = json.dumps(spec)
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "worker.py"), arg],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(pythons)
    ]
    procs += [
        subprocess.Popen(
            ["node", str(HERE / "worker.mjs"), arg], stdout=subprocess.PIPE, text=True
        )
        for _ in range(nodes)
    ]
    return procs


def start_fleet(
    mock: Mock, redis: Redis | None, seconds: float, prefix: str
) -> list[subprocess.Popen[str]]:
    return spawn_workers(
        mock,
        seconds=seconds,
        prefix=prefix,
        pythons=PYTHONS,
        nodes=NODES,
        redis_url=redis.url if redis else None,
    )


def reports(
    procs: list[subprocess.Popen[str]], killed: set[int] = frozenset()
) -> list[dict[str, Any]]:
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=120)
        if p.pid in killed:
            continue
        assert p.returncode == 0, f"worker {p.pid} exited {p.returncode}"
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def assert_every_caller_was_served(rs: list[dict[str, Any]]) -> None:
    assert {r["language"] for r in rs} == {"python", "node"}
    assert sum(r["error_count"] for r in rs) == 0, [
        r["errors"] for r in rs if r["errors"]
    ][:3]
    assert sum(r["expired"] for r in rs) == 0, "an expired token was handed out"
    assert all(r["calls"] > 10 for r in rs)


def test_forty_processes_on_one_redis_make_one_token_request_per_lifetime(
    mock: Mock, redis: Redis
) -> None:
    seconds = 4 * (LIFETIME - 1)
    rs = reports(start_fleet(mock, redis, seconds, "fleet-a:"))
    assert_every_caller_was_served(rs)
    requests = mock.token_requests()
    lifetimes = seconds / rs[0]["lifetime"]
    # The first token, then one per refresh period, for all 40 processes together.
    bound = math.ceil(seconds / REFRESH_EVERY) + 1
    print(
        f"fleet of {len(rs)} with Redis: {requests} token requests over {lifetimes:.1f} lifetimes (bound {bound})"
    )
    assert requests <= bound
    assert sum(r["stats"]["store_hits"] for r in rs) >= len(rs) - requests
    # Nothing readable at rest: every value is encrypted.
    for key in redis.cli("--scan", "--pattern", "fleet-a:token:*").split():
        assert "access_token" not in redis.cli("GET", key)


def test_the_same_fleet_without_redis_makes_a_request_per_process(mock: Mock) -> None:
    seconds = 2 * (LIFETIME - 1)
    rs = reports(start_fleet(mock, None, seconds, "unused:"))
    assert_every_caller_was_served(rs)
    requests = mock.token_requests()
    print(
        f"fleet of {len(rs)} without a shared store: {requests} token requests over {seconds / rs[0]['lifetime']:.1f} lifetimes"
    )
    assert requests >= len(rs)


def test_killing_the_process_that_holds_the_lock_leaves_everyone_served(
    mock: Mock, redis: Redis
) -> None:
    # Slow token requests: the fleet's lock is held for 1.5 s per fetch.
    mock.admin("POST", "/admin/config", {"latency_ms": 1500})
    seconds = 5 * (LIFETIME - 1)
    procs = start_fleet(mock, redis, seconds, "fleet-k:")
    pids = {p.pid for p in procs}
    killed: set[int] = set()
    deadline = time.time() + STARTUP + seconds - 3
    while not killed and time.time() < deadline:
        for key in redis.cli("--scan", "--pattern", "fleet-k:lock:*").split():
            holder = int(redis.cli("GET", key).strip().split(":")[0] or 0)
            if holder in pids:
                os.kill(holder, signal.SIGKILL)
                killed.add(holder)
                break
        time.sleep(0.01)
    assert killed, "no process was seen holding the lock"
    rs = reports(procs, killed)
    assert len(rs) == len(procs) - 1
    assert_every_caller_was_served(rs)


def test_redis_stopped_for_five_seconds_costs_no_caller_an_error_or_an_expired_token(
    mock: Mock, redis: Redis
) -> None:
    seconds = 6 * (LIFETIME - 1)
    procs = start_fleet(mock, redis, seconds, "fleet-s:")
    time.sleep(STARTUP + 2)
    redis.stop()
    time.sleep(5)
    redis.start()
    rs = reports(procs)
    assert_every_caller_was_served(rs)
    assert sum(r["stats"]["store_errors"] for r in rs) > 0, "the outage was seen"
