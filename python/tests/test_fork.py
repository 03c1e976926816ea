"""fork(): a client and its providers used in the parent keep working in child processes
(gunicorn --preload, multiprocessing's "fork" context, Celery prefork), which have none of the
parent's threads. Every child is a real forked process, bounded in time: one that hangs is
killed and fails the test."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import pytest

import twilio_oauth
from support import MockServer, run_in_thread
from twilio_oauth import FileStore, OAuthClient, Token, TokenProvider

# Python 3.12+ warns about fork() in a process with threads (the runtime's): that is the point.
pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks:DeprecationWarning")

CHILD_TIMEOUT = 30.0


def in_child(body: Callable[[], None], timeout: float = CHILD_TIMEOUT) -> None:
    """Runs `body` in a forked child, which exits 0 when it returns and 1 (sending the
    traceback back) when it raises; fails if the child fails or does not end in `timeout`."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(reader)
            body()
            code = 0
        except BaseException:
            os.write(writer, traceback.format_exc().encode()[-8000:])
        finally:
            os._exit(code)
    os.close(writer)
    try:
        status = wait_for(pid, timeout)
        with os.fdopen(reader, "rb") as pipe:
            report = pipe.read().decode(errors="replace")
    finally:
        if "report" not in locals():
            os.close(reader)
    assert status is not None, "the child hung (killed)"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the child failed:\n{report}"


def wait_for(pid: int, timeout: float) -> int | None:
    """The child's exit status, or None after killing it when it is still running at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


class LoopWithoutReaders(asyncio.SelectorEventLoop):
    """An event loop that cannot watch file descriptors (like Windows' proactor loop): the
    awaitables take pyo3-async-runtimes' path."""

    def add_reader(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError


async def fetch_async(provider: TokenProvider) -> Token:
    return await provider.token_async()


def fetch_on_a_loop_without_readers(provider: TokenProvider) -> Token:
    loop = LoopWithoutReaders()
    try:
        return loop.run_until_complete(fetch_async(provider))
    finally:
        loop.close()


def test_a_forked_child_fetches_tokens_of_its_own_sync_and_async(
    client: OAuthClient, mock: MockServer
) -> None:
    provider = client.token_provider()
    parent_token = provider.token()
    # The parent also used both kinds of awaitable (an asyncio waker, pyo3-async-runtimes).
    provider.invalidate()
    parent_token = asyncio.run(fetch_async(provider))
    provider.invalidate()
    parent_token = fetch_on_a_loop_without_readers(provider)
    assert mock.requests() == 3

    def child() -> None:
        # The parent's token came along: a cache hit.
        assert provider.token().access_token == parent_token.access_token
        provider.invalidate()
        fetched = provider.token()
        assert fetched.access_token != parent_token.access_token
        provider.invalidate()
        fetched_async = asyncio.run(fetch_async(provider))
        assert fetched_async.access_token != fetched.access_token
        provider.invalidate()
        fetched_fallback = fetch_on_a_loop_without_readers(provider)
        assert fetched_fallback.access_token != fetched_async.access_token
        assert client.client_credentials().access_token
        assert mock.requests() == 3 + 4

    in_child(child)
    # The parent goes on as before.
    assert provider.token().access_token == parent_token.access_token
    provider.invalidate()
    assert asyncio.run(fetch_async(provider)).access_token != parent_token.access_token
    assert mock.requests() == 3 + 4 + 1


def test_four_multiprocessing_workers_forked_from_a_warm_parent_each_fetch_tokens(
    client: OAuthClient, mock: MockServer
) -> None:
    provider = client.token_provider()
    parent_token = provider.token()
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def work() -> None:
        outcome: dict[str, Any] = {"pid": os.getpid()}
        try:
            outcome["hit"] = provider.token().access_token
            provider.invalidate()
            outcome["fetched"] = provider.token().access_token
            provider.invalidate()
            outcome["fetched_async"] = asyncio.run(fetch_async(provider)).access_token
        except BaseException:
            outcome["error"] = traceback.format_exc()
        results.put(outcome)

    workers = [context.Process(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=CHILD_TIMEOUT) for _ in workers]
    finally:
        for worker in workers:
            worker.join(CHILD_TIMEOUT)
            if worker.is_alive():
                worker.kill()
                worker.join()
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    errors = [o["error"] for o in outcomes if "error" in o]
    assert not errors, errors[0]
    assert len({o["pid"] for o in outcomes}) == 4
    assert {o["hit"] for o in outcomes} == {parent_token.access_token}
    fetched = [o[k] for o in outcomes for k in ("fetched", "fetched_async")]
    assert len(set(fetched)) == 8 and parent_token.access_token not in fetched
    assert mock.requests() == 1 + 8
    assert provider.token().access_token == parent_token.access_token


def test_a_child_forked_while_the_parent_fetches_does_not_wait_for_that_fetch(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(latency_ms=1500)
    provider = client.token_provider()
    fetcher, outcome = run_in_thread(provider.token)
    mock.wait_until(lambda: mock.requests() == 1, "the parent's token request arrived")

    def child() -> None:
        # The parent's fetch runs on a thread this process does not have: fetch anew.
        assert provider.token().access_token
        assert provider.stats().fetches == 2

    in_child(child)
    fetcher.join(CHILD_TIMEOUT)
    assert "result" in outcome, outcome
    assert mock.requests() == 2
    assert provider.stats().fetches == 1


def test_a_child_forked_while_the_parent_refreshes_through_a_file_store_does_not_wait_for_its_lock(
    client: OAuthClient, mock: MockServer, private_dir: Path
) -> None:
    mock.config(latency_ms=1500)
    provider = client.token_provider(store=FileStore(private_dir / "tokens.json"))
    fetcher, outcome = run_in_thread(provider.token)
    # The parent holds the store's refresh lock while its request is under way.
    mock.wait_until(lambda: mock.requests() == 1, "the parent's token request arrived")

    def child() -> None:
        started = time.monotonic()
        token = provider.token()
        assert token.access_token
        # Either its own fetch or the parent's token from the file, but not after waiting out
        # the lock (a minute).
        assert time.monotonic() - started < 10

    in_child(child, timeout=15)
    fetcher.join(CHILD_TIMEOUT)
    assert "result" in outcome, outcome
    # And the parent's next refresh is not held up by a lock the child inherited.
    provider.invalidate()
    started = time.monotonic()
    assert provider.token().access_token
    assert time.monotonic() - started < 10


class GatedStore:
    """A Python store whose `load` blocks in the parent process until released."""

    def __init__(self) -> None:
        self.parent = os.getpid()
        self.entered = threading.Event()
        self.release = threading.Event()

    def load(self, key: str) -> Token | None:
        if os.getpid() == self.parent:
            self.entered.set()
            self.release.wait(CHILD_TIMEOUT)
        return None

    def save(self, key: str, token: Token) -> None:
        pass

    def delete(self, key: str) -> None:
        pass


def test_a_child_forked_during_a_call_into_a_python_store_does_not_count_it_as_under_way(
    client: OAuthClient, mock: MockServer
) -> None:
    calls_into_python: Callable[[], int] = twilio_oauth._native._calls_into_python_for_test  # type: ignore[attr-defined]
    store = GatedStore()
    provider = client.token_provider(store=store)
    fetcher, outcome = run_in_thread(provider.token)
    assert store.entered.wait(CHILD_TIMEOUT)
    # A runtime thread is inside store.load: at exit, the interpreter would wait for it.
    assert calls_into_python() == 1

    def child() -> None:
        # That thread does not exist here: nothing to wait for at exit.
        assert calls_into_python() == 0
        assert provider.token().access_token

    try:
        in_child(child)
    finally:
        store.release.set()
    fetcher.join(CHILD_TIMEOUT)
    assert "result" in outcome, outcome
    assert calls_into_python() == 0
