"""N real processes sharing one FileStore: refreshes (or token requests) per token lifetime.

For N = 1, 2 and 8 processes, against the local Twilio OAuth server at
``TWILIO_OAUTH_BASE_URL`` with tokens of 3 s and refresh-token rotation on:

- ``user``: a person signs in once (authorization code with PKCE) and the login is saved in a
  FileStore under ``account="alice"``; N processes each build
  ``token_provider(store=FileStore(path), account="alice")`` and call ``token()`` every 10 ms
  for 4 lifetimes (12 s). Counted: refreshes, refresh tokens sent twice, revoked logins.
- ``app``: the same with the app's client-credentials token in one FileStore.
- ``app_unshared``: for comparison, N processes each with its own in-memory cache.

Each process is ``tests/share_worker.py`` (the worker the tests run). Lifetimes are counted as
the client knows them (``Token.lifetime``: 2 s of the server's 3, as JWT times are whole
seconds). Prints one JSON object.

    TWILIO_OAUTH_BASE_URL=http://127.0.0.1:PORT python python/share_bench.py [--processes 1,2,8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

# This file sits next to the package's sources: measure the installed wheel, not them.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from twilio_oauth import FileStore, OAuthClient, Token  # noqa: E402

WORKER = Path(__file__).resolve().parent / "tests" / "share_worker.py"
CLIENT_ID = "OQ0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "mock-client-secret-0123456789"
LIFETIME_SECS = 3
LIFETIMES = 4
# Refresh a quarter of a second before expiry: one refresh per lifetime is the ideal.
REFRESH_AHEAD = 0.25
STARTUP_SECS = 1.0


class Server:
    """The local server's admin API."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def admin(self, method: str, path: str, body: object | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None


def login(client: OAuthClient) -> Token:
    """A person signs in: authorization code with PKCE (the local server approves at once)."""
    redirect = "http://127.0.0.1/callback"
    request = client.authorization_url(redirect, scope="openid offline_access")
    parsed = urllib.parse.urlsplit(request.url)
    connection = http.client.HTTPConnection(parsed.netloc, timeout=10)
    try:
        connection.request("GET", f"{parsed.path}?{parsed.query}")
        location = connection.getresponse().getheader("Location") or ""
    finally:
        connection.close()
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"]
    return client.exchange_code(code, redirect, request.code_verifier)


def run(server: Server, processes: int, kind: str) -> dict[str, Any]:
    server.admin("POST", "/admin/reset")
    server.admin("POST", "/admin/config", {"token_lifetime_secs": LIFETIME_SECS})
    client = OAuthClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=server.url)
    with tempfile.TemporaryDirectory(prefix="twilio-oauth-share-bench-") as folder:
        path = Path(folder) / "tokens.json"
        spec: dict[str, Any] = {
            "base_url": server.url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "store_path": None if kind == "app_unshared" else str(path),
            "grant": "user" if kind == "user" else "app",
            "refresh_ahead": REFRESH_AHEAD,
            "seconds": LIFETIMES * LIFETIME_SECS,
            "interval": 0.01,
        }
        began = time.time()
        if kind == "user":
            person = login(client)
            began = time.time()
            saving = client.token_provider(store=FileStore(path), initial_token=person, account="alice")
            saving.token()
            spec.update(account="alice", subject=person.claims().get("sub"))
        spec["start_at"] = time.time() + STARTUP_SECS
        workers = [
            subprocess.Popen(
                [sys.executable, str(WORKER), json.dumps(spec)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=folder,
            )
            for _ in range(processes)
        ]
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=STARTUP_SECS + spec["seconds"] + 60)
            if worker.returncode != 0:
                raise RuntimeError(f"a worker failed: {err[-2000:]}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
    stats = server.admin("GET", "/admin/stats")
    if kind != "user":
        began = min(r["started"] for r in reports)
    lifetime = max(r["lifetime"] for r in reports)
    lifetimes = (max(r["ended"] for r in reports) - began) / lifetime
    requests = stats["refreshes"] if kind == "user" else stats["requests"].get("/v2/token", 0)
    return {
        "processes": processes,
        "kind": kind,
        "lifetime_secs": lifetime,
        "lifetimes": round(lifetimes, 2),
        "requests": requests,
        "requests_per_lifetime": round(requests / lifetimes, 2),
        "refresh_reuses": stats["refresh_reuses"],
        "grants_revoked": stats["grants_revoked"],
        "calls": sum(r["calls"] for r in reports),
        "errors": sum(r["error_count"] for r in reports),
        "expired_tokens": sum(r["expired"] for r in reports),
        "store_hits": sum(r["stats"]["store_hits"] for r in reports),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", default="1,2,8", help="comma-separated process counts")
    parser.add_argument("--kinds", default="user,app,app_unshared")
    args = parser.parse_args()
    server = Server(os.environ["TWILIO_OAUTH_BASE_URL"])
    results = [run(server, int(n), kind) for kind in args.kinds.split(",") for n in args.processes.split(",")]
    print(
        json.dumps(
            {"token_lifetime_secs": LIFETIME_SECS, "refresh_ahead_secs": REFRESH_AHEAD, "runs": results}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
