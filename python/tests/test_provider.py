"""TokenProvider: cache hits, single-flight across threads and tasks, the GIL released while a
fetch waits, refresh-ahead across short lifetimes."""

from __future__ import annotations

import asyncio
import threading
import time

from support import MockServer, run_in_thread
from twilio_oauth import OAuthClient, Stats, Token


def test_token_is_fetched_once_then_served_from_the_cache(client: OAuthClient, mock: MockServer) -> None:
    provider = client.token_provider()
    assert provider.cached() is None
    first = provider.token()
    assert provider.token().access_token == first.access_token
    assert provider.access_token() == first.access_token
    assert provider.authorization_header() == f"Bearer {first.access_token}"
    cached = provider.cached()
    assert cached is not None and cached.access_token == first.access_token
    assert mock.requests("/v2/token") == 1
    stats = provider.stats()
    assert isinstance(stats, Stats)
    assert (stats.fetches, stats.hits, stats.failures, stats.background_refreshes) == (1, 3, 0, 0)
    assert (stats.store_hits, stats.store_errors) == (0, 0)
    assert stats.to_dict() == {
        "hits": 3,
        "fetches": 1,
        "background_refreshes": 0,
        "failures": 0,
        "store_hits": 0,
        "store_errors": 0,
    }


async def test_the_async_twins_share_the_cache(client: OAuthClient, mock: MockServer) -> None:
    provider = client.token_provider(scope="b a")
    token = await provider.token_async()
    assert await provider.access_token_async() == token.access_token
    assert await provider.authorization_header_async() == token.authorization_header()
    assert provider.token().access_token == token.access_token
    assert mock.requests("/v2/token") == 1
    sent = [r for r in mock.admin("GET", "/admin/requests") if r["path"] == "/v2/token"]
    assert sent[0]["form"]["scope"] == ["a b"]


def test_invalidate_drops_the_cached_token(client: OAuthClient, mock: MockServer) -> None:
    provider = client.token_provider()
    first = provider.token()
    provider.invalidate()
    assert provider.cached() is None
    assert provider.token().access_token != first.access_token
    assert mock.requests("/v2/token") == 2


def test_token_after_unauthorized_replaces_only_the_rejected_token(
    client: OAuthClient, mock: MockServer
) -> None:
    provider = client.token_provider()
    rejected = provider.token()
    fresh = provider.token_after_unauthorized(rejected.access_token)
    assert fresh.access_token != rejected.access_token
    # A second caller reporting the same (already replaced) token reuses the new one.
    assert provider.token_after_unauthorized(rejected.access_token).access_token == fresh.access_token
    assert mock.requests("/v2/token") == 2


async def test_token_after_unauthorized_async_replaces_the_rejected_token(
    client: OAuthClient, mock: MockServer
) -> None:
    provider = client.token_provider()
    rejected = await provider.token_async()
    fresh = await provider.token_after_unauthorized_async(rejected.access_token)
    assert fresh.access_token != rejected.access_token
    assert mock.requests("/v2/token") == 2


def test_an_initial_token_is_served_without_a_request(client: OAuthClient, mock: MockServer) -> None:
    provider = client.token_provider(initial_token=Token("initial-access-token-value", 600))
    assert provider.access_token() == "initial-access-token-value"
    assert mock.requests("/v2/token") == 0


def test_64_threads_on_a_cold_cache_make_exactly_one_token_request(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(latency_ms=300)
    provider = client.token_provider()
    barrier = threading.Barrier(64)
    tokens: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            barrier.wait()
            token = provider.access_token()
            with lock:
                tokens.append(token)
        except BaseException as e:
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(tokens) == 64 and len(set(tokens)) == 1
    assert mock.requests("/v2/token") == 1
    assert provider.stats().fetches == 1


async def test_100_asyncio_tasks_on_a_cold_cache_make_exactly_one_token_request(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(latency_ms=300)
    provider = client.token_provider()
    tokens = await asyncio.gather(*(provider.access_token_async() for _ in range(100)))
    assert len(set(tokens)) == 1
    assert mock.requests("/v2/token") == 1
    assert provider.stats().fetches == 1


def test_other_threads_keep_running_while_a_slow_fetch_waits(client: OAuthClient, mock: MockServer) -> None:
    mock.config(latency_ms=3000)
    provider = client.token_provider()
    fetcher, outcome = run_in_thread(provider.token)
    # This thread runs Python (HTTP calls to the admin API, arithmetic) while the fetch is in
    # flight: the fetching thread does not hold the GIL while it waits.
    mock.wait_until(lambda: mock.requests("/v2/token") == 1, "the token request arrived")
    total = sum(i * i for i in range(200_000))
    assert total > 0
    assert fetcher.is_alive(), "the fetch finished before this thread got to run"
    fetcher.join(30)
    assert "result" in outcome, outcome


def test_refresh_ahead_never_hands_out_an_expired_token_across_short_lifetimes(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(token_lifetime_secs=3)
    provider = client.token_provider()
    first = provider.token()
    lifetime = first.lifetime
    assert 1 <= lifetime <= 3
    seen: set[str] = set()
    calls = 0
    started = time.monotonic()
    while time.monotonic() - started < 4 * lifetime:
        token = provider.token()
        calls += 1
        assert not token.is_expired()
        assert token.expires_in() > 0
        if token.access_token not in seen:
            seen.add(token.access_token)
            # Each new token is one the API accepts.
            assert mock.account_status(token.authorization_header()) == 200
        time.sleep(0.002)
    elapsed = time.monotonic() - started
    requests = mock.requests("/v2/token")
    stats = provider.stats()
    assert stats.fetches == requests
    assert stats.failures == 0
    assert stats.background_refreshes >= 1
    # The default refresh-ahead window is half the lifetime: about one request per half
    # lifetime, never one per call, and at least one per lifetime (or a token would expire).
    assert elapsed / lifetime <= requests <= 2 * elapsed / lifetime + 2, (requests, elapsed, lifetime)
    assert calls > 10 * requests


class LoopWithoutReaders(asyncio.SelectorEventLoop):
    """An event loop that cannot watch file descriptors (like Windows' proactor loop)."""

    def add_reader(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError


def test_awaitables_work_on_a_loop_that_cannot_watch_sockets(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1, latency_ms=200)
    provider = client.token_provider()

    async def main() -> tuple[str, int]:
        tokens = await asyncio.gather(*(provider.access_token_async() for _ in range(10)))
        device = await client.create_device_code_async(["offline_access"])
        poll = asyncio.ensure_future(client.poll_device_token_async(device))
        while mock.device(device.user_code)["polls"] < 1:
            await asyncio.sleep(0.02)
        poll.cancel()
        try:
            await poll
        except asyncio.CancelledError:
            pass
        polls = mock.device(device.user_code)["polls"]
        await asyncio.sleep(2.5)
        assert mock.device(device.user_code)["polls"] == polls
        return tokens[0], len(set(tokens))

    loop = LoopWithoutReaders()
    try:
        token, distinct = loop.run_until_complete(main())
    finally:
        loop.close()
    assert distinct == 1 and token
    assert mock.requests("/v2/token") == 1


def test_a_cached_header_is_converted_once_per_token_and_follows_every_new_token(
    client: OAuthClient, mock: MockServer
) -> None:
    provider = client.token_provider()
    header = provider.authorization_header()
    # The same str object while the token is the same one: nothing is converted per call.
    assert provider.authorization_header() is header
    assert provider.access_token() is provider.access_token()
    assert provider.token() is provider.token()
    assert header == f"Bearer {provider.token().access_token}"
    # A new token (after invalidate(), after a 401) is what the next call shows.
    provider.invalidate()
    after_invalidate = provider.authorization_header()
    assert after_invalidate != header
    assert (
        after_invalidate
        == f"Bearer {provider.token().access_token}"
        == provider.token().authorization_header()
    )
    fresh = provider.token_after_unauthorized(provider.access_token())
    assert provider.authorization_header() == f"Bearer {fresh.access_token}" != after_invalidate
    assert provider.access_token() == fresh.access_token
    assert mock.requests("/v2/token") == 3


async def test_a_cached_header_is_shared_by_the_async_twins(client: OAuthClient, mock: MockServer) -> None:
    provider = client.token_provider()
    header = await provider.authorization_header_async()
    assert await provider.authorization_header_async() is provider.authorization_header()
    assert header == provider.authorization_header()
    assert await provider.access_token_async() is provider.access_token()
    assert await provider.token_async() is provider.token()


def test_a_cached_header_never_outlives_its_token_across_short_lifetimes(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(token_lifetime_secs=2)
    provider = client.token_provider()
    headers: list[str] = []
    started = time.monotonic()
    while time.monotonic() - started < 2 * provider.token().lifetime + 0.5:
        before = provider.token()
        header = provider.authorization_header()
        after = provider.token()
        # The header is the one of the token the core hands out at that moment (a background
        # refresh may install the next one in between), never the one of an older token.
        assert header in (before.authorization_header(), after.authorization_header())
        assert not before.is_expired() and not after.is_expired()
        if not headers or headers[-1] != header:
            headers.append(header)
        time.sleep(0.002)
    assert len(headers) >= 3 and len(set(headers)) == len(headers)
    assert mock.account_status(provider.authorization_header()) == 200
