"""Token requests per lifetime for a fleet of 1, 8 and 32 Python processes, with no shared
store, one FileStore (one host) and one Redis; and what a Redis-backed refresh costs against a
local-only one. Run by `scripts/bench` (with the Python of python/ci.sh, the mock server binary
and redis-server); prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_fleet import (
    CLIENT_ID,
    CLIENT_SECRET,
    KEY_B64,
    LIFETIME,
    REFRESH_AHEAD,
    Mock,
    Redis,
    spawn_workers,
)
from twilio_oauth import MemoryStore, OAuthClient, RedisStore

LIFETIMES = 4


def fleet(mock: Mock, n: int, kind: str, redis: Redis, folder: str) -> dict[str, float]:
    mock.admin("POST", "/admin/reset")
    mock.admin("POST", "/admin/config", {"token_lifetime_secs": LIFETIME})
    seconds = LIFETIMES * (LIFETIME - 1)
    procs = spawn_workers(
        mock,
        seconds=seconds,
        prefix=f"bench-{n}:",
        pythons=n,
        redis_url=redis.url if kind == "redis" else None,
        store_path=f"{folder}/{kind}-{n}.json" if kind == "file" else None,
    )
    reports = [
        json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1])
        for p in procs
    ]
    requests = mock.token_requests()
    return {
        "processes": n,
        "kind": kind,
        "requests": requests,
        "lifetimes": seconds / reports[0]["lifetime"],
        "per_lifetime": requests / (seconds / reports[0]["lifetime"]),
        "errors": sum(r["error_count"] for r in reports),
        "expired": sum(r["expired"] for r in reports),
    }


def refresh_cost(mock: Mock, redis: Redis) -> dict[str, float]:
    """Median time of a foreground fetch (`invalidate()` then `token()`), local store vs Redis."""
    mock.admin("POST", "/admin/reset")
    client = OAuthClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=mock.url
    )
    out = {}
    for name, store in [
        ("memory", MemoryStore()),
        (
            "redis",
            RedisStore(redis.url, key_prefix="bench-cost:", encryption_key=KEY_B64),
        ),
    ]:
        provider = client.token_provider(store=store)
        provider.token()
        times = []
        for _ in range(40):
            provider.invalidate()
            start = time.perf_counter()
            provider.token()
            times.append((time.perf_counter() - start) * 1000)
        out[name] = statistics.median(times)
    return out


def main() -> None:
    mock, redis = Mock(), Redis()
    try:
        with tempfile.TemporaryDirectory() as folder:
            runs = [
                fleet(mock, n, kind, redis, folder)
                for n in (1, 8, 32)
                for kind in ("none", "file", "redis")
            ]
        cost = refresh_cost(mock, redis)
    finally:
        redis.stop()
        mock.stop()
    print(
        json.dumps(
            {
                "token_lifetime_secs": LIFETIME,
                "refresh_ahead_secs": REFRESH_AHEAD,
                "runs": runs,
                "refresh_ms": cost,
            }
        )
    )


if __name__ == "__main__":
    main()
