"""One of N processes sharing a token through one FileStore or one Redis: run as a script (by
test_shared_file_store.py, test_redis_store.py and python/share_bench.py), never imported by the
tests.

    python share_worker.py '{"base_url": ..., "store_path": ..., "grant": "user", ...}'

It builds ``token_provider(store=FileStore(store_path), ...)`` (or, with ``redis_url``,
``RedisStore(redis_url, encryption_key=...)``; a person's, found in the store by ``account``, or
the app's; without either, the app's in memory, for comparison), waits
for ``start_at`` (a wall-clock time, so that every process starts together), then calls
``token()`` every ``interval`` seconds for ``seconds`` seconds, checking each token the moment it
is returned. It prints one JSON line: calls, errors, expired tokens, distinct tokens, the
lifetime of the first token it got (as the client believes it), its wall-clock start and end,
and the provider's stats.
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
        client_secret=spec.get("client_secret"),
        base_url=spec["base_url"],
        timeout=10,
        max_retries=0,
    )
    store_path, redis_url = spec.get("store_path"), spec.get("redis_url")
    store: FileStore | RedisStore | None = None
    if store_path is not None:
        store = FileStore(store_path)
    elif redis_url is not None:
        store = RedisStore(redis_url, encryption_key=spec.get("encryption_key"))
    provider = client.token_provider(
        store=store,
        account=spec.get("account"),
        grant=spec["grant"],
        refresh_ahead=spec.get("refresh_ahead"),
    )
    subject = spec.get("subject")
    errors: list[str] = []
    error_count = expired = calls = 0
    seen: set[str] = set()
    lifetime = 0.0
    delay = spec["start_at"] - time.time()
    if delay > 0:
        time.sleep(delay)
    started = time.time()
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
            if subject is not None and token.claims().get("sub") != subject:
                error_count += 1
                errors.append(f"a token of {token.claims().get('sub')!r}, not of {subject!r}")
            seen.add(token.access_token)
            lifetime = lifetime or token.lifetime
        time.sleep(spec["interval"])
    return {
        "pid": os.getpid(),
        "grant": provider.grant,
        "calls": calls,
        "error_count": error_count,
        "errors": errors,
        "expired": expired,
        "distinct_tokens": len(seen),
        "lifetime": lifetime,
        "started": started,
        "ended": time.time(),
        "stats": provider.stats().to_dict(),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))), flush=True)
