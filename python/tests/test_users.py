"""People's tokens: a user provider renews a login with its (rotating) refresh token and never
falls back to an app token; the new provider options; the store counters; a cancelled caller
leaves the provider's fetch running."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import pytest

from support import ACCOUNT_SID, MockServer, assert_no_secret, login
from twilio_oauth import (
    ApiError,
    ConfigError,
    FileStore,
    LoginRequiredError,
    OAuthClient,
    StoreError,
    Token,
    TwilioOAuthError,
)

USER_SID = "US0123456789abcdef0123456789abcdef"  # the local server's default person
OTHER_ACCOUNT_SID = "AC00000000000000000000000000000001"


def test_a_refused_refresh_raises_login_required_and_never_asks_for_an_app_token(
    client: OAuthClient, mock: MockServer
) -> None:
    # A confidential client: it has a secret, so an app token was one request away.
    assert client.has_client_secret
    person = login(client)
    assert person.refresh_token
    client.refresh(person.refresh_token)  # spends the login's refresh token elsewhere
    provider = client.token_provider(initial_token=person)
    assert provider.grant == "user"
    provider.invalidate()

    with pytest.raises(LoginRequiredError) as caught:
        provider.token()

    e = caught.value
    assert isinstance(e, ApiError) and isinstance(e, TwilioOAuthError)
    assert (e.status, e.code) == (400, 322403)
    assert e.server_message and "invalid_grant" in e.server_message
    assert e.message == str(e) and e.server_message in e.message
    assert_no_secret(str(e), person.refresh_token, person.access_token)
    assert mock.grant_types() == ["authorization_code", "refresh_token", "refresh_token"]
    assert "client_credentials" not in mock.grant_types()
    # The login is gone: the next call says so at once, still without an app token.
    with pytest.raises(LoginRequiredError) as again:
        provider.token()
    assert (again.value.status, again.value.error) == (401, "login_required")
    assert mock.requests("/v2/token") == 3
    assert provider.cached() is None


async def test_a_refused_refresh_raises_login_required_from_the_awaitable_too(
    client: OAuthClient, mock: MockServer
) -> None:
    person = login(client)
    assert person.refresh_token
    await client.refresh_async(person.refresh_token)
    provider = client.token_provider(initial_token=person)
    provider.invalidate()
    with pytest.raises(LoginRequiredError) as caught:
        await provider.token_async()
    assert caught.value.status == 400
    assert "client_credentials" not in mock.grant_types()


def test_a_person_without_a_refresh_token_must_sign_in_again_without_any_request(
    client: OAuthClient, mock: MockServer
) -> None:
    provider = client.token_provider(
        initial_token=Token("a-persons-access-token-value", 600), account="alice"
    )
    assert provider.grant == "user"
    assert provider.token().access_token == "a-persons-access-token-value"
    provider.invalidate()
    with pytest.raises(LoginRequiredError) as caught:
        provider.token()
    assert (caught.value.status, caught.value.error) == (401, "login_required")
    assert mock.requests("/v2/token") == 0


def test_a_login_is_renewed_with_a_new_refresh_token_each_time(client: OAuthClient, mock: MockServer) -> None:
    person = login(client)
    provider = client.token_provider(initial_token=person)
    seen = {person.refresh_token}
    for _ in range(3):
        provider.invalidate()
        token = provider.token()
        assert token.refresh_token not in seen
        assert token.subject == USER_SID
        seen.add(token.refresh_token)
    stats = mock.stats()
    assert (stats["refreshes"], stats["refresh_reuses"], stats["grants_revoked"]) == (3, 0, 0)


def test_grant_is_app_or_user_and_anything_else_is_a_config_error(client: OAuthClient) -> None:
    assert client.token_provider().grant == "app"
    assert client.token_provider(account="alice").grant == "user"
    assert client.token_provider(grant="user").grant == "user"
    seeded = client.token_provider(initial_token=Token("an-app-token-value", 600), grant="app")
    assert seeded.grant == "app"
    assert "grant=app" in seeded.key and "grant=user" in client.token_provider(grant="user").key
    with pytest.raises(ConfigError, match="app"):
        client.token_provider(grant="robot")  # type: ignore[arg-type]


def test_account_sid_asks_for_a_token_on_behalf_of_that_account(
    client: OAuthClient, mock: MockServer
) -> None:
    token = client.client_credentials(account_sid=OTHER_ACCOUNT_SID)
    assert token.claims()["account_sid"] == OTHER_ACCOUNT_SID
    assert client.client_credentials().claims()["account_sid"] == ACCOUNT_SID
    sent = [r for r in mock.admin("GET", "/admin/requests") if r["path"] == "/v2/token"]
    assert OTHER_ACCOUNT_SID in sent[0]["query"] and OTHER_ACCOUNT_SID not in (sent[1]["query"] or "")

    on_behalf = client.token_provider(account_sid=OTHER_ACCOUNT_SID)
    own = client.token_provider()
    assert on_behalf.key != own.key
    assert on_behalf.token().claims()["account_sid"] == OTHER_ACCOUNT_SID
    assert own.token().claims()["account_sid"] == ACCOUNT_SID


async def test_account_sid_works_with_the_awaitable_client_credentials(
    client: OAuthClient, mock: MockServer
) -> None:
    token = await client.client_credentials_async(account_sid=OTHER_ACCOUNT_SID)
    assert token.claims()["account_sid"] == OTHER_ACCOUNT_SID


def test_an_account_label_finds_a_saved_login_and_keeps_people_apart(
    client: OAuthClient, mock: MockServer, private_dir: Path
) -> None:
    path = private_dir / "tokens.json"
    person = login(client)
    saved = client.token_provider(store=FileStore(path), initial_token=person, account="alice")
    assert saved.token().access_token == person.access_token
    # A later process: no token in hand, only the label.
    found = client.token_provider(store=FileStore(path), account="alice")
    token = found.token()
    assert token.access_token == person.access_token and token.subject == USER_SID
    assert found.stats().store_hits == 1 and found.stats().fetches == 0
    # Nobody signed in as bob: no app token for him either.
    with pytest.raises(LoginRequiredError):
        client.token_provider(store=FileStore(path), account="bob").token()
    assert mock.grant_types() == ["authorization_code"]


def test_a_token_knows_whose_it_is_and_when_it_was_issued(client: OAuthClient) -> None:
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    person = login(client)
    assert person.subject == USER_SID
    assert client.client_credentials().subject == client.client_id
    assert Token("not-a-jwt-access-token", 60).subject is None
    assert before - datetime.timedelta(seconds=1) <= person.issued_at <= person.expires_at


def test_stats_count_tokens_taken_from_the_store(
    client: OAuthClient, mock: MockServer, private_dir: Path
) -> None:
    path = private_dir / "tokens.json"
    first = client.token_provider(store=FileStore(path))
    token = first.token()
    assert (first.stats().fetches, first.stats().store_hits) == (1, 0)
    second = client.token_provider(store=FileStore(path))
    assert second.token().access_token == token.access_token
    stats = second.stats()
    assert (stats.fetches, stats.store_hits, stats.store_errors) == (0, 1, 0)
    assert stats.to_dict()["store_hits"] == 1
    assert mock.requests("/v2/token") == 1


class BrokenStore:
    def load(self, key: str) -> Token | None:
        raise RuntimeError("the database is down")

    def save(self, key: str, token: Token) -> None:
        raise RuntimeError("the database is still down")

    def delete(self, key: str) -> None:
        raise RuntimeError("no")


def test_stats_count_store_errors_and_the_token_still_comes(client: OAuthClient) -> None:
    provider = client.token_provider(store=BrokenStore())
    assert provider.token().access_token
    stats = provider.stats()
    assert stats.store_errors == 2  # the load before the request, the save after it
    assert stats.fetches == 1 and stats.failures == 0
    assert "store_errors=2" in repr(stats)


def test_file_store_keys_raise_store_error_for_a_file_it_cannot_read_and_leave_it_untouched(
    client: OAuthClient, private_dir: Path
) -> None:
    path = private_dir / "tokens.json"
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(StoreError):
        FileStore(path).keys()
    # A provider on it goes on without the store, and never overwrites the file.
    provider = client.token_provider(store=FileStore(path))
    assert provider.token().access_token
    assert provider.stats().store_errors >= 1
    assert path.read_text() == "{not json"

    newer = json.dumps({"schema_version": 99, "tokens": {}})
    path.write_text(newer)
    with pytest.raises(StoreError, match="newer"):
        FileStore(path).keys()
    assert path.read_text() == newer


def test_file_store_refuses_a_folder_other_users_can_write(private_dir: Path) -> None:
    shared = private_dir / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(StoreError, match="writable by other users"):
        FileStore(shared / "tokens.json").save("key", Token("an-access-token-value", 60))


async def test_a_cancelled_caller_leaves_the_fetch_running_and_its_token_installed(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(latency_ms=1000)
    provider = client.token_provider()
    waiting = asyncio.ensure_future(provider.token_async())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while mock.requests("/v2/token") < 1:
        assert loop.time() < deadline, "the token request never arrived"
        await asyncio.sleep(0.01)

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    # The fetch belongs to the provider: it completes and its token is installed.
    while provider.cached() is None:
        assert loop.time() < deadline, "the fetch of the cancelled caller never completed"
        await asyncio.sleep(0.02)
    token = await provider.token_async()
    assert token.access_token == provider.cached().access_token  # type: ignore[union-attr]
    assert provider.stats().fetches == 1
    assert mock.requests("/v2/token") == 1


async def test_a_caller_that_times_out_leaves_the_fetch_for_the_next_one(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(latency_ms=1000)
    provider = client.token_provider()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(provider.token_async(), timeout=0.2)
    # The next caller joins the fetch still under way instead of starting one.
    token = await provider.token_async()
    assert token.access_token
    assert provider.stats().fetches == 1
    assert mock.requests("/v2/token") == 1
