"""Benchmarks of the Python package, printed as a markdown table.

- A cached ``provider.authorization_header()`` against twilio-python's own cache,
  ``TokenAuthStrategy.get_auth_string()`` with a cached token, in the same process and with the
  same JWT (twilio decodes the JWT on every call to check its expiry).
- What the twilio SDK calls through ``TwilioCredentialProvider`` (one Python frame more).
- ``import twilio_oauth`` time (fresh interpreters) and the wheel's size.
- With ``TWILIO_OAUTH_BASE_URL`` pointing at the local Twilio OAuth server: token requests made
  for 100 API calls through the twilio SDK, with its own ``ClientCredentialProvider`` and with
  ``TwilioCredentialProvider``; the SDK's requests are sent to that server instead of Twilio.

Usage: python bench.py [--wheel PATH] [--calls N]. Needs the installed wheel, twilio and PyJWT.
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Callable

# This file sits next to the package's sources: measure the installed wheel, not them.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import jwt  # noqa: E402
from twilio.auth_strategy.token_auth_strategy import TokenAuthStrategy  # noqa: E402
from twilio.http.token_manager import TokenManager  # noqa: E402

import twilio_oauth  # noqa: E402
from twilio_oauth import OAuthClient, Token, TwilioCredentialProvider  # noqa: E402


def realistic_jwt() -> str:
    """A JWT shaped like Twilio's access tokens (HS256, about 800 characters), valid for 1 hour."""
    now = int(time.time())
    claims = {
        "iss": "https://oauth.twilio.com",
        "sub": "OQ0123456789abcdef0123456789abcdef",
        "aud": ["https://api.twilio.com"],
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "scope": "offline_access openid profile",
        "grants": {"api": {"accounts": ["AC0123456789abcdef0123456789abcdef"]}, "x": "y" * 180},
    }
    return jwt.encode(claims, "benchmark-signing-key-0123456789abcdef", algorithm="HS256")


class FixedTokenManager(TokenManager):  # type: ignore[misc]
    def __init__(self, token: str) -> None:
        self.token = token

    def fetch_access_token(self) -> str:
        return self.token


ROUNDS = 7


def per_call_ns(fn: Callable[[], object], calls: int) -> tuple[float, float, float]:
    """Median, fastest and slowest of ROUNDS rounds of `calls` calls, per call."""
    fn()  # warm the cache
    rounds = [t / calls * 1e9 for t in timeit.repeat(fn, number=calls, repeat=ROUNDS)]
    return statistics.median(rounds), min(rounds), max(rounds)


def shown_ns(ns: float) -> str:
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def import_time_ms(runs: int = 7) -> float:
    code = "import time; t = time.perf_counter(); import twilio_oauth; print(time.perf_counter() - t)"
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd="/"
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(samples) * 1000


def wheel_size(explicit: str | None) -> tuple[str, float] | None:
    candidates = [explicit] if explicit else []
    root = Path(__file__).resolve().parents[1]
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    candidates += sorted(
        glob.glob(str(target / "wheels*" / "twilio_oauth-*.whl")), key=os.path.getmtime, reverse=True
    )
    for path in candidates:
        if path and os.path.exists(path):
            return os.path.basename(path), os.path.getsize(path) / 1e6
    return None


def token_requests_per_100_calls(base_url: str) -> list[tuple[str, int]]:
    """Token requests for 100 API calls through the twilio SDK: its provider, then ours."""
    import json
    import urllib.request

    from twilio.credential.client_credential_provider import ClientCredentialProvider
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    account_sid = "AC0123456789abcdef0123456789abcdef"
    client_id, secret = "OQ0123456789abcdef0123456789abcdef", "mock-client-secret-0123456789"
    send = TwilioHttpClient.request

    def to_local_server(self: TwilioHttpClient, method: str, url: str, *a: object, **kw: object) -> object:
        for host in ("https://oauth.twilio.com", "https://api.twilio.com"):
            url = url.replace(host, base_url)
        return send(self, method, url, *a, **kw)

    def token_requests() -> int:
        with urllib.request.urlopen(base_url + "/admin/stats", timeout=10) as r:
            return int(json.loads(r.read())["requests"].get("/v2/token", 0))

    TwilioHttpClient.request = to_local_server  # type: ignore[method-assign]
    try:
        rows = []
        ours = OAuthClient(client_id=client_id, client_secret=secret, base_url=base_url).token_provider()
        for name, credentials in [
            ("twilio-python `ClientCredentialProvider`", ClientCredentialProvider(client_id, secret)),
            ("twilio-oauth `TwilioCredentialProvider`", TwilioCredentialProvider(ours)),
        ]:
            before = token_requests()
            sdk = Client(account_sid=account_sid, credential_provider=credentials)
            for _ in range(100):
                assert sdk.api.v2010.accounts(account_sid).fetch().sid == account_sid
            rows.append((name, token_requests() - before))
        return rows
    finally:
        TwilioHttpClient.request = send  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wheel", help="the wheel whose size to report")
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()

    # TokenAuthStrategy calls logging.basicConfig(level=INFO) and logs its first fetch.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    access_token = realistic_jwt()
    client = OAuthClient(client_id="OQ0123456789abcdef0123456789abcdef", client_secret="unused")
    provider = client.token_provider(initial_token=Token(access_token, 3600))
    strategy = TokenAuthStrategy(FixedTokenManager(access_token))
    ours_via_sdk = TwilioCredentialProvider(provider).to_auth_strategy()
    assert provider.authorization_header() == strategy.get_auth_string() == ours_via_sdk.get_auth_string()

    twilio_ns = per_call_ns(strategy.get_auth_string, args.calls // 10)
    rows = [
        ("twilio-python `TokenAuthStrategy.get_auth_string()` (cached)", twilio_ns),
        (
            "`provider.authorization_header()` (cached)",
            per_call_ns(provider.authorization_header, args.calls),
        ),
        (
            "`TwilioCredentialProvider(...).to_auth_strategy().get_auth_string()`",
            per_call_ns(ours_via_sdk.get_auth_string, args.calls),
        ),
        ("`provider.access_token()` (cached)", per_call_ns(provider.access_token, args.calls)),
        ("`provider.token()` (cached)", per_call_ns(provider.token, args.calls)),
    ]
    stats = provider.stats()
    assert stats.fetches == 0, stats

    python = sys.version.split()[0]
    print(f"twilio-oauth {twilio_oauth.__version__}, Python {python}, JWT of {len(access_token)} chars\n")
    print(f"Median of {ROUNDS} rounds per call, with the fastest and slowest round.\n")
    print("| what | median per call | min – max | vs twilio-python (medians) |")
    print("|---|---:|---:|---:|")
    for name, (med, lo, hi) in rows:
        print(f"| {name} | {shown_ns(med)} | {shown_ns(lo)} – {shown_ns(hi)} | {twilio_ns[0] / med:.1f}× |")
    print(f"| `import twilio_oauth` (median of 7 fresh interpreters) | {import_time_ms():.1f} ms | | |")
    size = wheel_size(args.wheel)
    if size:
        print(f"| wheel `{size[0]}` | {size[1]:.2f} MB | | |")
    base_url = os.environ.get("TWILIO_OAUTH_BASE_URL")
    if base_url:
        print("\nThe twilio SDK against the local Twilio OAuth server: token requests for 100 API calls.\n")
        print("| credential provider | token requests |")
        print("|---|---:|")
        for name, count in token_requests_per_100_calls(base_url):
            print(f"| {name} | {count} |")


if __name__ == "__main__":
    main()
