"""The whole API with its types: checked with `mypy --strict` in CI, and run against the
local mock server (TWILIO_OAUTH_BASE_URL, TWILIO_CLIENT_ID, TWILIO_CLIENT_SECRET,
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)."""

from __future__ import annotations

import asyncio
import datetime
import os

import twilio_oauth
from twilio_oauth import (
    ApiError,
    DeviceAuthorization,
    FileStore,
    LoginRequiredError,
    MemoryStore,
    OAuthClient,
    RateLimitedError,
    RedisStore,
    Stats,
    Token,
    TokenProvider,
    TokenStore,
    TwilioOAuthError,
)


class DictStore:
    """A custom token store: any object with load, save and delete."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def load(self, key: str) -> Token | None:
        text = self.saved.get(key)
        return None if text is None else Token.from_json(text)

    def save(self, key: str, token: Token) -> None:
        self.saved[key] = token.to_json()

    def delete(self, key: str) -> None:
        self.saved.pop(key, None)


def describe(error: TwilioOAuthError) -> str:
    if isinstance(error, LoginRequiredError):  # an ApiError: a person must sign in again
        return f"sign in again (HTTP {error.status}, {error.error})"
    if isinstance(error, RateLimitedError):
        return f"rate limited, retry in {error.retry_after}s"
    if isinstance(error, ApiError):
        # `message` is the human text (str(error)); `server_message` is the server's own words.
        return f"HTTP {error.status} code={error.code} error={error.error}: {error.server_message}"
    return error.message


def sync_calls(client: OAuthClient) -> TokenProvider:
    store: TokenStore = DictStore()
    provider = client.token_provider(
        scope="offline_access", store=store, refresh_ahead=60.0, expiry_margin=5.0
    )
    token: Token = provider.token()
    expires_at: datetime.datetime = token.expires_at
    seconds_left: float = token.expires_in()
    claims: dict[str, object] = token.claims()
    header: str = provider.authorization_header()
    stats: Stats = provider.stats()
    assert header.startswith("Bearer ") and seconds_left > 0 and expires_at.tzinfo and claims
    assert stats.fetches == 1 and stats.store_hits == 0 and stats.store_errors == 0
    assert provider.grant == "app" and token.subject == client.client_id
    on_behalf = client.token_provider(account_sid="AC00000000000000000000000000000001")
    assert on_behalf.key != provider.key
    person = client.token_provider(initial_token=Token("a-persons-token", 60), account="alice")
    assert person.grant == "user"
    person.invalidate()
    try:
        person.token()  # no refresh token to renew it with, and never an app token instead
    except LoginRequiredError as e:
        print("person:", describe(e))
    request = client.authorization_url("http://localhost/callback", scope="openid")
    assert request.url and request.state and request.code_verifier
    device: DeviceAuthorization = client.create_device_code(["offline_access"])
    assert device.user_code and device.interval > 0
    assert isinstance(MemoryStore(), MemoryStore) and FileStore("/tmp/twilio-oauth-example.json").path
    # No connection is made until the store is used (by a provider: token_provider(store=fleet)).
    fleet = RedisStore("redis://127.0.0.1:6379/0", key_prefix="example:", encryption_key=bytes(32))
    assert fleet.encrypted
    try:
        client.refresh("not-a-refresh-token")
    except TwilioOAuthError as e:
        print("refresh refused:", describe(e))
    return provider


async def async_calls(client: OAuthClient, provider: TokenProvider) -> None:
    token = await provider.token_async()
    direct = await client.client_credentials_async(scope="offline_access")
    header = await provider.authorization_header_async()
    assert header == token.authorization_header() and direct.access_token


def main() -> None:
    client = OAuthClient(base_url=os.environ.get("TWILIO_OAUTH_BASE_URL"), timeout=10.0, max_retries=1)
    provider = sync_calls(client)
    asyncio.run(async_calls(client, provider))
    print("typed_usage ok:", twilio_oauth.__version__, provider.stats())


if __name__ == "__main__":
    main()
