"""Fixtures: the mock Twilio OAuth server (one per session, reset before each test) and clients
configured for it. The tests import the installed wheel, never the source tree."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import twilio_oauth
from support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    PUBLIC_CLIENT_ID,
    REPO,
    SCENARIO_TALLY,
    MockServer,
)


def _mock_binary() -> Path:
    explicit = os.environ.get("TWILIO_OAUTH_MOCK")
    if explicit:
        return Path(explicit)
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "twilio-oauth-mock"],
        cwd=REPO,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "debug" / "twilio-oauth-mock"


@contextmanager
def running_mock(*args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The mock server binary with `args`, on a free port: its URL (from the line it prints
    once listening) and its process, stopped by closing its stdin."""
    process = subprocess.Popen(
        [str(_mock_binary()), "--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-eof", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None and process.stdin is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the mock server did not start: {line!r}")
    try:
        yield line.removeprefix("listening on ").rstrip("/"), process
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    with running_mock() as (url, process):
        yield MockServer(url, process)


@pytest.fixture
def mock(mock_server: MockServer) -> MockServer:
    mock_server.reset()
    return mock_server


@pytest.fixture
def client(mock: MockServer) -> twilio_oauth.OAuthClient:
    """A confidential client with v1 credentials, talking to the mock server."""
    return twilio_oauth.OAuthClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        base_url=mock.url,
        timeout=10,
        max_retries=0,
    )


@pytest.fixture
def public_client(mock: MockServer) -> twilio_oauth.OAuthClient:
    """A public (PKCE/device) client: no secret."""
    return twilio_oauth.OAuthClient(
        client_id=PUBLIC_CLIENT_ID,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        base_url=mock.url,
        timeout=10,
        max_retries=0,
    )


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """A new folder only this user can enter (mode 0700): a FileStore refuses folders that other
    users can write."""
    with tempfile.TemporaryDirectory(prefix="twilio-oauth-test-") as folder:
        yield Path(folder)


@pytest.fixture(autouse=True)
def no_twilio_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_CLIENT_ID", "TWILIO_CLIENT_SECRET", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    tally = config.stash.get(SCENARIO_TALLY, None)
    if tally is not None:
        terminalreporter.write_line(f"scenarios (python): {tally[0]} passed, {tally[1]} failed")
