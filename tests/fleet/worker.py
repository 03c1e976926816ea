"""One process of a fleet (tests/fleet/test_fleet.py runs many of it, next to worker.mjs):

    python worker.py '{"base_url": …, "redis_url": …, "encryption_key": …, "seconds": …, …}'

It builds `token_provider(store=RedisStore(...))` (a FileStore with `store_path`, no store when
neither is given), waits for
`start_at` (a wall-clock time, so the fleet starts together), then calls `token()` every
`interval` seconds for `seconds` seconds, checking each token the moment it is returned. It
prints one JSON line: calls, errors, expired tokens handed out, the token's lifetime as the client
believes it, and the provider's stats.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from twilio_oauth import FileStore, OAuthClient, RedisStore, TwilioOAuthError


def run(spec: dict[str, Any]) -> dict[str, Any]:
    client = OAuthClient(
        client_id=spec["client_id"],
        client_secret=spec["client_secret"],
        base_url=spec["base_url"],
        timeout=10,
    )
    store: FileStore | RedisStore | None = None
    if spec.get("store_path"):
        store = FileStore(spec["store_path"])
    if spec.get("redis_url"):
        store = RedisStore(
            spec["redis_url"],
            key_prefix=spec["key_prefix"],
            encryption_key=spec["encryption_key"],
            lock_ttl=spec["lock_ttl"],
        )
    provider = client.token_provider(store=store, refresh_ahead=spec["refresh_ahead"])
    errors: list[str] = []
    error_count = expired = calls = 0
    lifetime = 0.0
    delay = spec["start_at"] - time.time()
    if delay > 0:
        time.sleep(delay)
    until = time.monotonic() + spec["seconds"]
    while time.monotonic() < until:
        calls += 1
        try:
            token = provider.token()
        except TwilioOAuthError as e:
            error_count += 1
            if len(errors) < 5:
                errors.append(f"{type(e).__name__}: {e}")
        else:
            if token.is_expired() or token.expires_in() <= 0:
                expired += 1
            lifetime = lifetime or token.lifetime
        time.sleep(spec["interval"])
    return {
        "language": "python",
        "pid": os.getpid(),
        "calls": calls,
        "error_count": error_count,
        "errors": errors,
        "expired": expired,
        "lifetime": lifetime,
        "stats": provider.stats().to_dict(),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))), flush=True)
