"""Soak: one million cached ``provider.token()`` calls from 8 Python threads over several short
token lifetimes, against the local Twilio OAuth server at ``TWILIO_OAUTH_BASE_URL``.

Prints the numbers and exits 1 if resident memory grows by more than 2 MiB after warm-up, if a
caller ever gets an expired token, or if the token request count strays from one per refresh
period (± 1). The Rust twin is ``rust-core/examples/soak.rs``; CI runs both.

    TWILIO_OAUTH_BASE_URL=http://127.0.0.1:PORT python python/soak.py
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path

# This file sits next to the package's sources: measure the installed wheel, not them.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from twilio_oauth import OAuthClient  # noqa: E402

THREADS = 8
CALLS = 1_000_000
LIFETIME_SECS = 3
BASE_URL = os.environ["TWILIO_OAUTH_BASE_URL"]


def admin(method: str, path: str, body: object | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE_URL + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def token_requests() -> int:
    stats = admin("GET", "/admin/stats")
    assert isinstance(stats, dict)
    return int(stats["requests"].get("/v2/token", 0))


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def main() -> int:
    admin("POST", "/admin/reset")
    admin("POST", "/admin/config", {"token_lifetime_secs": LIFETIME_SECS})
    client = OAuthClient(
        client_id="OQ0123456789abcdef0123456789abcdef",
        client_secret="mock-client-secret-0123456789",
        base_url=BASE_URL,
    )
    provider = client.token_provider()
    # The refresh period: half the believed lifetime (JWT whole seconds, less one).
    period = provider.token().lifetime / 2

    expired = 0
    worst_wait = 0.0
    lock = threading.Lock()

    def caller() -> None:
        nonlocal expired, worst_wait
        mine_expired, mine_worst = 0, 0.0
        for i in range(CALLS // THREADS):
            t0 = time.perf_counter()
            token = provider.token()
            waited = time.perf_counter() - t0
            mine_worst = max(mine_worst, waited)
            if token.is_expired():
                mine_expired += 1
            # Spread the calls over several lifetimes.
            if i % 16 == 0:
                time.sleep(0.001)
        with lock:
            expired += mine_expired
            worst_wait = max(worst_wait, mine_worst)

    start = time.monotonic()
    threads = [threading.Thread(target=caller) for _ in range(THREADS)]
    for t in threads:
        t.start()
    rss: list[tuple[float, int]] = []
    while any(t.is_alive() for t in threads):
        time.sleep(0.25)
        rss.append((time.monotonic() - start, rss_kib()))
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start

    after_warmup = [kib for at, kib in rss if at >= 1.0] or [rss_kib()]
    lo, hi = min(after_warmup), max(after_warmup)
    requests = token_requests()
    periods = elapsed / period
    print(f"soak (Python): {CALLS} token() calls from {THREADS} threads in {elapsed:.1f} s")
    print(
        f"  tokens of {LIFETIME_SECS} s: refresh period {period:.2f} s, {periods:.1f} periods elapsed, "
        f"{requests} token requests"
    )
    print(f"  stats: {provider.stats().to_dict()}")
    print(f"  RSS after warm-up: {lo} KiB .. {hi} KiB (growth {hi - lo} KiB)")
    print(f"  worst caller wait {worst_wait * 1e3:.2f} ms; expired tokens handed out: {expired}")

    ok = True
    if hi - lo > 2048:
        print("FAIL: RSS grew by more than 2 MiB")
        ok = False
    if expired:
        print("FAIL: an expired token was handed out")
        ok = False
    # One request per refresh period, plus the first; ±1 for where the run starts and ends.
    if abs(requests - (math.floor(periods) + 1)) > 1:
        print(f"FAIL: {requests} requests for {periods:.1f} refresh periods")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
