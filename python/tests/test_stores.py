"""Token stores: a store written in Python, the file store and the memory store; and the core's
log records reaching Python's logging."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from support import CLIENT_SECRET, MockServer, assert_no_secret
from twilio_oauth import ApiError, FileStore, MemoryStore, OAuthClient, Token, TokenStore


class DictStore:
    """A store in a dict, recording calls (and the thread they came from)."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.threads: set[int] = set()

    def load(self, key: str) -> Token | None:
        self.calls.append(("load", key))
        self.threads.add(threading.get_ident())
        saved = self.tokens.get(key)
        return None if saved is None else Token.from_json(saved)

    def save(self, key: str, token: Token) -> None:
        self.calls.append(("save", key))
        self.tokens[key] = token.to_json()

    def delete(self, key: str) -> None:
        self.calls.append(("delete", key))
        self.tokens.pop(key, None)


def test_a_python_object_works_as_a_token_store(client: OAuthClient, mock: MockServer) -> None:
    store = DictStore()
    assert isinstance(store, TokenStore)
    provider = client.token_provider(store=store)
    token = provider.token()
    assert store.calls == [("load", provider.key), ("save", provider.key)]
    assert threading.get_ident() not in store.threads
    # A second provider (another process, in real life) starts from the stored token.
    again = client.token_provider(store=store)
    assert again.token().access_token == token.access_token
    assert mock.requests("/v2/token") == 1


async def test_a_python_store_is_used_by_the_async_calls(client: OAuthClient, mock: MockServer) -> None:
    store = DictStore()
    first = await client.token_provider(store=store).token_async()
    second = await client.token_provider(store=store).token_async()
    assert first.access_token == second.access_token
    assert mock.requests("/v2/token") == 1


class BrokenStore:
    def load(self, key: str) -> Token | None:
        raise RuntimeError("the database is down")

    def save(self, key: str, token: Token) -> None:
        raise RuntimeError("the database is still down")

    def delete(self, key: str) -> None:
        raise RuntimeError("no")


def test_a_failing_store_is_logged_and_never_fatal(
    client: OAuthClient, mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="twilio_oauth")
    provider = client.token_provider(store=BrokenStore())
    token = provider.token()
    assert token.access_token
    records = [r for r in caplog.records if r.name.startswith("twilio_oauth")]
    messages = "\n".join(r.getMessage() for r in records)
    assert "token store load failed" in messages and "the database is down" in messages
    assert "token store save failed" in messages
    assert any(r.levelno == logging.WARNING for r in records)
    assert_no_secret(messages, token.access_token, CLIENT_SECRET)


class WrongTypeStore(DictStore):
    def load(self, key: str) -> Token | None:
        return "not a token"  # type: ignore[return-value]


def test_a_store_returning_the_wrong_type_is_ignored(
    client: OAuthClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="twilio_oauth")
    assert client.token_provider(store=WrongTypeStore()).token().access_token
    assert "must return a twilio_oauth.Token or None" in caplog.text


def test_an_object_without_the_methods_is_refused(client: OAuthClient) -> None:
    with pytest.raises(TypeError, match="load"):
        client.token_provider(store=object())  # type: ignore[arg-type]


def test_the_file_store_keeps_tokens_between_providers_with_mode_0600(
    client: OAuthClient, mock: MockServer, tmp_path: Path
) -> None:
    path = tmp_path / "state" / "tokens.json"
    token = client.token_provider(store=FileStore(path)).token()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    store = FileStore(str(path))
    assert str(store.path) == str(path)
    provider = client.token_provider(store=store)
    assert store.keys() == [provider.key]
    assert provider.token().access_token == token.access_token
    assert mock.requests("/v2/token") == 1
    loaded = store.load(provider.key)
    assert loaded is not None and loaded.access_token == token.access_token
    store.delete(provider.key)
    assert store.load(provider.key) is None


def test_the_memory_store_can_be_shared_and_used_directly(client: OAuthClient, mock: MockServer) -> None:
    store = MemoryStore()
    token = client.token_provider(store=store).token()
    assert client.token_provider(store=store).token().access_token == token.access_token
    store.save("other", Token("hand-made-access-token", 60))
    loaded = store.load("other")
    assert loaded is not None and loaded.access_token == "hand-made-access-token"
    store.delete("other")
    assert store.load("other") is None
    assert mock.requests("/v2/token") == 1


def test_failed_token_requests_are_logged_without_secrets(
    client: OAuthClient, mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="twilio_oauth")
    mock.fault("/v2/token", {"status": 503})
    provider = client.token_provider()
    with pytest.raises(ApiError):
        provider.token()
    failed = [r for r in caplog.records if "token request failed" in r.getMessage()]
    # A logger of the core module that made the request (`twilio_oauth.cache` today).
    assert failed and failed[0].name.startswith("twilio_oauth.")
    assert failed[0].levelno == logging.WARNING
    assert_no_secret(caplog.text, CLIENT_SECRET)
