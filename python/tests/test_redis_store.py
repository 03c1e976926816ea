"""RedisStore against a real redis-server (Debian's package, /usr/bin/redis-server), started for
each test on a free port with its own folder and no persistence, and stopped after it.

Real OS processes share one Redis as a fleet does; values are read back raw (a few lines of the
Redis protocol below) to see what an onlooker with access to Redis would see.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union

import pytest

from support import CLIENT_ID, CLIENT_SECRET, MockServer, assert_no_secret
from twilio_oauth import ConfigError, OAuthClient, RedisStore, StoreError, Token

WORKER = Path(__file__).with_name("share_worker.py")
KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))
# Time for the worker interpreters to start and import the package before they begin together.
STARTUP = 1.0

Reply = Union[bytes, int, str, None, list["Reply"]]


class Redis:
    """A redis-server process of this test, and the raw commands the test reads it with."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        # On this test's port and in its folder, with no persistence.
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        options["dir"] = str(self.folder)
        self.process = subprocess.Popen(
            [server, *(part for name, value in options.items() for part in (f"--{name}", value))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.command("PING") == "PONG":
                    return
            except OSError:
                pass
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def command(self, *args: str) -> Reply:
        """One command over the Redis protocol (RESP2), its reply decoded."""
        request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as connection:
            connection.sendall(request.encode())
            reader = connection.makefile("rb")
            return read_reply(reader)

    def values(self) -> dict[str, bytes]:
        """Every key of the database and its value (strings only)."""
        keys = self.command("KEYS", "*")
        assert isinstance(keys, list)
        found: dict[str, bytes] = {}
        for key in keys:
            assert isinstance(key, bytes)
            value = self.command("GET", key.decode())
            if isinstance(value, bytes):
                found[key.decode()] = value
        return found


def read_reply(reader: Any) -> Reply:
    line: bytes = reader.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise AssertionError(f"Redis error: {rest.decode()}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data: bytes = reader.read(size + 2)
        return data[:-2]
    if kind == b"*":
        return [read_reply(reader) for _ in range(int(rest))]
    raise AssertionError(f"unexpected Redis reply {line!r}")


@pytest.fixture
def redis() -> Iterator[Redis]:
    with tempfile.TemporaryDirectory(prefix="twilio-oauth-redis-") as folder:
        server = Redis(Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def client_for(mock: MockServer) -> OAuthClient:
    return OAuthClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=mock.url, timeout=10, max_retries=0
    )


def run_workers(mock: MockServer, redis: Redis, processes: int, **spec: Any) -> list[dict[str, Any]]:
    """`processes` interpreters, each with its own provider on its own RedisStore of `redis`,
    calling `token()` from the same moment; their reports (each must exit 0)."""
    spec = {
        "base_url": mock.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redis_url": redis.url,
        "grant": "app",
        "seconds": 0.5,
        "interval": 0.01,
        "start_at": time.time() + STARTUP,
        **spec,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    reports = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=STARTUP + spec["seconds"] + 60)
            assert worker.returncode == 0, err[-3000:]
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert len({r["pid"] for r in reports}) == processes
    return reports


def test_two_processes_with_providers_on_one_redis_make_one_token_request(
    mock: MockServer, redis: Redis
) -> None:
    # Slow enough that both processes ask while the first request is under way: only the
    # fleet's lock (the core's RedisStore, not a wrapper of it) keeps the second from fetching.
    mock.config(latency_ms=500)
    reports = run_workers(mock, redis, 2, encryption_key=base64.b64encode(KEY).decode())

    for report in reports:
        assert report["error_count"] == 0, report["errors"]
        assert report["expired"] == 0 and report["distinct_tokens"] == 1
    assert mock.requests("/v2/token") == 1
    assert sorted(r["stats"]["fetches"] for r in reports) == [0, 1]
    assert sorted(r["stats"]["store_hits"] for r in reports) == [0, 1]
    assert all(r["stats"]["store_errors"] == 0 for r in reports)
    # One token in Redis, under the prefix, encrypted: the token itself is nowhere in it.
    token = client_for(mock).token_provider(store=RedisStore(redis.url, encryption_key=KEY)).token()
    assert mock.requests("/v2/token") == 1
    values = redis.values()
    assert [k for k in values if k.startswith("twilio-oauth:token:")] != []
    assert_no_secret(repr(values), token.access_token, token.access_token[-40:])


def test_a_store_with_another_encryption_key_cannot_read_the_token(mock: MockServer, redis: Redis) -> None:
    client = client_for(mock)
    ours = RedisStore(redis.url, encryption_key=KEY)
    assert ours.encrypted
    provider = client.token_provider(store=ours)
    token = provider.token()
    assert ours.keys() == [provider.key]
    assert ours.load(provider.key) is not None

    # The same key given as base64 text reads it; another key does not.
    same = RedisStore(redis.url, encryption_key=base64.b64encode(KEY).decode())
    loaded = same.load(provider.key)
    assert loaded is not None and loaded.access_token == token.access_token
    other = RedisStore(redis.url, encryption_key=OTHER_KEY)
    assert other.load(provider.key) is None
    assert other.keys() == []
    # A provider on the other key cannot use it either: it fetches a token of its own.
    theirs = client.token_provider(store=other)
    assert theirs.token().access_token != token.access_token
    assert theirs.stats().store_hits == 0
    assert mock.requests("/v2/token") == 2
    # Nor can a store without a key.
    assert RedisStore(redis.url).load(provider.key) is None


def test_without_an_encryption_key_a_token_is_readable_by_anyone_who_reads_redis(
    mock: MockServer, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_OAUTH_ENCRYPTION_KEY", raising=False)
    store = RedisStore(redis.url, key_prefix="app-one:")
    assert not store.encrypted
    assert store.key_prefix == "app-one:"
    token = client_for(mock).token_provider(store=store).token()
    values = redis.values()
    assert list(values) and all(k.startswith("app-one:") for k in values)
    assert any(token.access_token.encode() in v for v in values.values())
    # The key may come from the environment instead: then nothing is readable.
    monkeypatch.setenv("TWILIO_OAUTH_ENCRYPTION_KEY", base64.b64encode(KEY).decode())
    from_env = RedisStore(redis.url, key_prefix="app-two:")
    assert from_env.encrypted
    again = client_for(mock).token_provider(store=from_env, scope="other").token()
    two = {k: v for k, v in redis.values().items() if k.startswith("app-two:")}
    assert two and not any(again.access_token.encode() in v for v in two.values())


def test_redis_stopped_mid_run_costs_the_caller_nothing_and_is_counted(
    mock: MockServer, redis: Redis
) -> None:
    mock.config(token_lifetime_secs=2)
    provider = client_for(mock).token_provider(store=RedisStore(redis.url, encryption_key=KEY))

    def call_for(seconds: float) -> set[str]:
        seen: set[str] = set()
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            token = provider.token()  # never raises because of Redis
            header = provider.authorization_header()
            assert not token.is_expired() and token.expires_in() > 0
            assert header.startswith("Bearer ")
            seen.add(token.access_token)
            time.sleep(0.01)
        return seen

    call_for(0.5)
    assert provider.stats().store_errors == 0
    redis.stop()
    # Several lifetimes (of a second or two): tokens are due, and Redis does not answer.
    seen = call_for(3.0)
    stats = provider.stats()
    assert stats.store_errors > 0, stats
    assert stats.failures == 0, stats
    # The tokens kept coming from the server, fetched by this process alone, and they work.
    assert len(seen) >= 2 and stats.fetches >= 3
    assert mock.account_status(provider.authorization_header()) == 200


def test_a_bad_url_or_key_is_a_config_error_and_the_repr_hides_the_password() -> None:
    with pytest.raises(ConfigError):
        RedisStore("not a url")
    with pytest.raises(ConfigError, match="32 bytes"):
        RedisStore("redis://127.0.0.1:6379/0", encryption_key=b"too short")
    with pytest.raises(ConfigError, match="base64"):
        RedisStore("redis://127.0.0.1:6379/0", encryption_key="not base64 at all!")
    with pytest.raises(TypeError):
        RedisStore("redis://127.0.0.1:6379/0", encryption_key=32)  # type: ignore[arg-type]
    store = RedisStore("redis://user:hunter2-secret@127.0.0.1:1/0", encryption_key=KEY)
    assert "hunter2-secret" not in repr(store) and "RedisStore" in repr(store)
    assert isinstance(store, RedisStore) and store.encrypted


def test_a_redis_that_does_not_answer_is_a_store_error_for_direct_calls() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = RedisStore(f"redis://127.0.0.1:{port}/0", encryption_key=KEY)
    with pytest.raises(StoreError) as caught:
        store.save("key", Token("access-token-for-the-redis-test", 60))
    assert "access-token-for-the-redis-test" not in str(caught.value)
