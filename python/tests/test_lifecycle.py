"""Short programs exit cleanly while the runtime's threads still have work for Python: results
of awaitables just delivered, a background refresh saving into a slow Python store, log records
on their way to a handler that writes to a stream."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from support import CLIENT_ID, CLIENT_SECRET, MockServer

PROGRAM = textwrap.dedent(
    f"""
    import asyncio, logging, sys, time
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    from twilio_oauth import OAuthClient

    class SlowStore:
        def load(self, key):
            time.sleep(0.005)
            return None
        def save(self, key, token):
            time.sleep(0.05)
        def delete(self, key):
            pass

    client = OAuthClient(client_id={CLIENT_ID!r}, client_secret={CLIENT_SECRET!r}, base_url=sys.argv[1])
    # Refresh-ahead covers the whole lifetime: every cache hit starts a background refresh.
    eager = client.token_provider(scope="eager", store=SlowStore(), refresh_ahead=86400)

    async def main():
        providers = [client.token_provider(scope=f"s{{i}}", store=SlowStore()) for i in range(8)]
        await asyncio.gather(*(p.token_async() for p in providers), eager.token_async())
        await eager.token_async()

    if sys.argv[2] == "async":
        asyncio.run(main())
    else:
        eager.token()
        eager.token()
    """
)


def run_many(mock: MockServer, mode: str, runs: int) -> None:
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", PROGRAM, mock.url, mode],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Fatal Python error" not in done.stderr


def test_asyncio_programs_exit_cleanly_right_after_their_last_await(mock: MockServer) -> None:
    run_many(mock, "async", 12)


def test_sync_programs_exit_cleanly_with_a_background_refresh_under_way(mock: MockServer) -> None:
    run_many(mock, "sync", 12)
