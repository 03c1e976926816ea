"""Test support: the mock server's admin API, the mock's credentials, small helpers."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

import twilio_oauth

REPO = Path(__file__).resolve().parents[2]

CLIENT_ID = "OQ0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "mock-client-secret-0123456789"
PUBLIC_CLIENT_ID = "OQfedcba9876543210fedcba9876543210"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "mock-auth-token-0123456789abcdef"
SECRETS = (CLIENT_SECRET, AUTH_TOKEN)
LOGIN_REDIRECT = "http://127.0.0.1/callback"
LOGIN_SCOPE = "openid offline_access"

# (passed, failed) of the cross-language scenarios, for the closing summary.
SCENARIO_TALLY = pytest.StashKey[tuple[int, int]]()


def _check_installed_package() -> None:
    location = Path(twilio_oauth.__file__).resolve()
    if REPO / "python" in location.parents:
        raise RuntimeError(
            f"twilio_oauth was imported from the source tree ({location}); "
            "the tests must run against the installed wheel"
        )


_check_installed_package()


class MockServer:
    """The running twilio-oauth-mock binary and its admin API."""

    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process

    def admin(self, method: str, path: str, body: Any | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def reset(self) -> None:
        self.admin("POST", "/admin/reset")

    def config(self, **changes: Any) -> None:
        self.admin("POST", "/admin/config", changes)

    def fault(self, endpoint: str, *responses: dict[str, Any]) -> None:
        self.admin("POST", "/admin/faults", {"endpoint": endpoint, "responses": list(responses)})

    def requests(self, path: str = "/v2/token") -> int:
        counts: dict[str, int] = self.admin("GET", "/admin/stats")["requests"]
        return counts.get(path, 0)

    def stats(self) -> dict[str, Any]:
        """`GET /admin/stats`: `requests` by path, `tokens_issued`, `refreshes`,
        `refresh_reuses`, `grants_revoked`."""
        stats: dict[str, Any] = self.admin("GET", "/admin/stats")
        return stats

    def grant_types(self, path: str = "/v2/token") -> list[str]:
        """The grant_type of each recorded request to `path`, oldest first."""
        sent = [r for r in self.admin("GET", "/admin/requests") if r["path"] == path]
        return [(r["form"].get("grant_type") or r["form"].get("GrantType") or [""])[0] for r in sent]

    def devices(self) -> list[dict[str, Any]]:
        devices: list[dict[str, Any]] = self.admin("GET", "/admin/device")
        return devices

    def device(self, user_code: str) -> dict[str, Any]:
        return next(d for d in self.devices() if d["user_code"] == user_code)

    def approve(self, user_code: str) -> None:
        self.admin("POST", "/admin/device/approve", {"user_code": user_code})

    def deny(self, user_code: str) -> None:
        self.admin("POST", "/admin/device/deny", {"user_code": user_code})

    def account_status(self, bearer: str) -> int:
        """GET /2010-04-01/Accounts/{sid}.json with a bearer token: the HTTP status."""
        request = urllib.request.Request(
            f"{self.url}/2010-04-01/Accounts/{ACCOUNT_SID}.json",
            headers={"Authorization": bearer},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as e:
            return e.code

    def account_url(self) -> str:
        return f"{self.url}/2010-04-01/Accounts/{ACCOUNT_SID}.json"

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        """Polls `condition` (bounded), for tests that must act once the server saw something."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting until {what}")
            time.sleep(0.02)


def authorize(url: str) -> tuple[str, str]:
    """GETs an authorize URL without following the redirect; returns (code, state)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.netloc, timeout=10)
    try:
        connection.request("GET", f"{parsed.path}?{parsed.query}")
        location = connection.getresponse().getheader("Location") or ""
    finally:
        connection.close()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    return query["code"], query["state"]


def login(client: twilio_oauth.OAuthClient, scope: str = LOGIN_SCOPE) -> twilio_oauth.Token:
    """A person signs in: the authorization-code flow with PKCE (the local server approves at
    once, as the person set by its `user_sid`). The token carries a refresh token."""
    request = client.authorization_url(LOGIN_REDIRECT, scope=scope)
    code, state = authorize(request.url)
    assert state == request.state, "the redirect must carry our state back"
    return client.exchange_code(code, LOGIN_REDIRECT, request.code_verifier)


def run_in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Starts `target` in a thread; the dict receives its `result` or `error`."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = target()
        except BaseException as e:
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def assert_no_secret(text: str, *secrets: str | None) -> None:
    for secret in (*SECRETS, *secrets):
        if secret:
            assert secret not in text, f"a secret appears in {text!r}"
