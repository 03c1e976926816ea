"""Real OS processes (not threads) sharing one FileStore: one person's login, or the app's token.

Each process runs tests/share_worker.py: its own interpreter, its own provider, only the file in
common. The local server rotates refresh tokens (a refresh token sent twice revokes the login),
and its tokens live 3 s; the workers call for 4 of those lifetimes (12 s). A process that
refreshed on its own would replay a refresh token (user) or make its own token requests (app);
these tests see both.

Refreshes are counted per lifetime as the client knows it (`Token.lifetime`: 2 s of the
server's 3, since JWT times are whole seconds and the core gives one back), which is what it
must refresh by.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from support import CLIENT_ID, CLIENT_SECRET, MockServer, login
from twilio_oauth import FileStore, OAuthClient

WORKER = Path(__file__).with_name("share_worker.py")
LIFETIME = 3
LIFETIMES = 4
# Refresh a quarter of a second before expiry (the expiry margin is a tenth of the lifetime): one
# refresh per lifetime is then the right count (the default, half the lifetime ahead, makes two).
REFRESH_AHEAD = 0.25
# Time for N interpreters to start and import the package before they all begin together.
STARTUP = 1.0


def run_workers(mock: MockServer, processes: int, store: Path, **spec: Any) -> list[dict[str, Any]]:
    """Starts `processes` workers on one store, all calling `token()` from the same moment for
    LIFETIMES lifetimes; returns their reports (each must exit 0)."""
    spec = {
        "base_url": mock.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "store_path": str(store),
        "refresh_ahead": REFRESH_AHEAD,
        "seconds": LIFETIMES * LIFETIME,
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
            cwd=store.parent,
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


def assert_every_worker_was_served(reports: list[dict[str, Any]]) -> None:
    for report in reports:
        assert report["error_count"] == 0, report["errors"]
        assert report["expired"] == 0, f"{report['expired']} expired tokens handed out"
        assert report["calls"] > 100
        # Each process saw several tokens: the refreshes reached all of them.
        assert report["distinct_tokens"] >= LIFETIMES - 1, report


@pytest.mark.parametrize("processes", [2, 8])
def test_processes_sharing_one_login_refresh_once_per_lifetime_and_never_replay_a_refresh_token(
    client: OAuthClient, mock: MockServer, private_dir: Path, processes: int
) -> None:
    mock.config(token_lifetime_secs=LIFETIME)
    person = login(client)
    logged_in_at = time.time()
    path = private_dir / "tokens.json"
    # Once, as an app does after the sign-in: the login goes into the file under "alice".
    saving = client.token_provider(store=FileStore(path), initial_token=person, account="alice")
    assert saving.grant == "user"
    assert saving.token().access_token == person.access_token
    assert FileStore(path).keys() == [saving.key]

    reports = run_workers(
        mock, processes, path, grant="user", account="alice", subject=person.claims()["sub"]
    )

    assert_every_worker_was_served(reports)
    assert {r["grant"] for r in reports} == {"user"}
    stats = mock.stats()
    assert stats["refresh_reuses"] == 0, stats
    assert stats["grants_revoked"] == 0, stats
    assert {r["lifetime"] for r in reports} == {person.lifetime}
    lifetimes = (max(r["ended"] for r in reports) - logged_in_at) / person.lifetime
    assert lifetimes - 1 <= stats["refreshes"] <= lifetimes + 2, (stats, lifetimes)
    # Every refresh was one process's; the others took its token from the file.
    assert sum(r["stats"]["fetches"] for r in reports) == stats["refreshes"]
    assert sum(r["stats"]["store_hits"] for r in reports) >= processes
    assert mock.grant_types() == ["authorization_code"] + ["refresh_token"] * stats["refreshes"]


def test_eight_processes_sharing_the_app_token_make_one_token_request_per_lifetime(
    mock: MockServer, private_dir: Path
) -> None:
    mock.config(token_lifetime_secs=LIFETIME)
    reports = run_workers(mock, 8, private_dir / "tokens.json", grant="app")

    assert_every_worker_was_served(reports)
    assert {r["grant"] for r in reports} == {"app"}
    requests = mock.requests("/v2/token")
    (lifetime,) = {r["lifetime"] for r in reports}
    lifetimes = (max(r["ended"] for r in reports) - min(r["started"] for r in reports)) / lifetime
    # The first token, then one per lifetime; not 8 per lifetime: one process fetches, the seven
    # others read the file.
    assert lifetimes - 1 <= requests - 1 <= lifetimes + 2, (requests, lifetimes)
    assert sum(r["stats"]["fetches"] for r in reports) == requests
    assert set(mock.grant_types()) == {"client_credentials"}
