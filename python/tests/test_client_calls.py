"""Every raw call of OAuthClient, sync and awaitable, against the mock server."""

from __future__ import annotations

import datetime
import urllib.parse

import pytest

import twilio_oauth
from support import ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, MockServer
from twilio_oauth import OAuthClient, Token

REDIRECT_URI = "http://localhost:8765/callback"


def authorize(mock: MockServer, url: str) -> dict[str, str]:
    """Follows the browser step: GET /v2/authorize, read the redirect's query (code, state)."""
    import http.client

    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.netloc, timeout=10)
    connection.request("GET", f"{parsed.path}?{parsed.query}")
    response = connection.getresponse()
    location = response.getheader("Location") or ""
    connection.close()
    assert response.status == 302, location
    assert location.startswith(REDIRECT_URI)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def assert_usable(mock: MockServer, token: Token) -> None:
    assert token.token_type == "Bearer"
    assert not token.is_expired()
    assert 0 < token.expires_in() <= token.lifetime
    assert mock.account_status(token.authorization_header()) == 200


def test_client_credentials_returns_a_usable_token(client: OAuthClient, mock: MockServer) -> None:
    token = client.client_credentials()
    assert_usable(mock, token)
    assert mock.requests("/v2/token") == 1


async def test_client_credentials_async_returns_a_usable_token(client: OAuthClient, mock: MockServer) -> None:
    token = await client.client_credentials_async(scope="a b")
    assert_usable(mock, token)
    assert mock.requests("/v2/token") == 1


def test_create_oauth2_token_sends_the_v2_form(client: OAuthClient, mock: MockServer) -> None:
    token = client.create_oauth2_token("client_credentials", scope="offline_access", account_sid=ACCOUNT_SID)
    assert_usable(mock, token)
    sent = [r for r in mock.admin("GET", "/admin/requests") if r["path"] == "/v2/token"]
    assert sent[0]["form"]["grant_type"] == ["client_credentials"]
    assert sent[0]["form"]["client_id"] == [CLIENT_ID]
    assert sent[0]["query"] == f"account_sid={ACCOUNT_SID}"


async def test_create_oauth2_token_async_sends_the_v2_form(client: OAuthClient, mock: MockServer) -> None:
    token = await client.create_oauth2_token_async("client_credentials")
    assert_usable(mock, token)


def test_create_token_uses_v1_with_basic_auth(client: OAuthClient, mock: MockServer) -> None:
    token = client.create_token("client_credentials")
    assert_usable(mock, token)
    sent = [r for r in mock.admin("GET", "/admin/requests") if r["path"] == "/v1/token"]
    assert sent[0]["authorization"] == f"basic {ACCOUNT_SID}"
    assert sent[0]["form"]["ClientSid"] == [CLIENT_ID]
    assert sent[0]["form"]["GrantType"] == ["client_credentials"]


async def test_create_token_async_uses_v1_with_basic_auth(client: OAuthClient, mock: MockServer) -> None:
    token = await client.create_token_async("client_credentials")
    assert_usable(mock, token)
    assert mock.requests("/v1/token") == 1


def test_create_device_code_returns_what_to_show_the_user(client: OAuthClient, mock: MockServer) -> None:
    device = client.create_device_code(["offline_access", "openid"], audiences=["https://api.twilio.com"])
    assert device.user_code and device.verification_uri.startswith(mock.url)
    assert device.verification_uri_complete and device.user_code in device.verification_uri_complete
    assert device.interval == 5.0
    assert device.device_code
    assert device.expires_at.tzinfo is not None
    assert 0 < device.expires_in() <= device.lifetime == 600
    server_side = mock.device(device.user_code)
    assert server_side["scopes"] == ["offline_access", "openid"]
    assert server_side["audiences"] == ["https://api.twilio.com"]


async def test_create_device_code_async_returns_what_to_show_the_user(
    client: OAuthClient, mock: MockServer
) -> None:
    device = await client.create_device_code_async(["offline_access"])
    assert mock.device(device.user_code)["status"] == "pending"


def test_authorization_code_with_pkce_then_refresh(public_client: OAuthClient, mock: MockServer) -> None:
    request = public_client.authorization_url(REDIRECT_URI, scope="openid offline_access", state="st-1")
    assert request.state == "st-1"
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))
    assert query["code_challenge_method"] == "S256"
    redirect = authorize(mock, request.url)
    assert redirect["state"] == "st-1"
    token = public_client.exchange_code(redirect["code"], REDIRECT_URI, request.code_verifier)
    assert_usable(mock, token)
    assert token.refresh_token and token.id_token
    renewed = public_client.refresh(token.refresh_token)
    assert_usable(mock, renewed)
    assert renewed.access_token != token.access_token


async def test_authorization_code_with_pkce_then_refresh_async(
    public_client: OAuthClient, mock: MockServer
) -> None:
    request = public_client.authorization_url(REDIRECT_URI, scope="offline_access")
    redirect = authorize(mock, request.url)
    assert redirect["state"] == request.state
    token = await public_client.exchange_code_async(
        redirect["code"], redirect_uri=REDIRECT_URI, code_verifier=request.code_verifier
    )
    assert token.refresh_token
    renewed = await public_client.refresh_async(token.refresh_token)
    assert_usable(mock, renewed)


def test_poll_device_token_returns_the_token_once_approved(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1, auto_approve_after_polls=1)
    device = client.create_device_code(["offline_access"])
    token = client.poll_device_token(device)
    assert_usable(mock, token)
    assert token.refresh_token
    assert mock.device(device.user_code)["polls"] == 2


async def test_poll_device_token_async_returns_the_token_once_approved(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(device_interval=1)
    device = await client.create_device_code_async(["offline_access"])
    mock.approve(device.user_code)
    token = await client.poll_device_token_async(device)
    assert_usable(mock, token)


def test_a_token_is_a_value_with_an_aware_utc_expiry(client: OAuthClient) -> None:
    token = client.client_credentials()
    assert token.expires_at.tzinfo == datetime.timezone.utc
    now = datetime.datetime.now(datetime.timezone.utc)
    assert now < token.expires_at <= now + datetime.timedelta(seconds=3600)
    claims = token.claims()
    assert isinstance(claims["exp"], int) and claims["exp"] > claims["iat"]
    assert token.authorization_header() == f"Bearer {token.access_token}"
    again = Token.from_json(token.to_json())
    assert again.access_token == token.access_token
    assert abs((again.expires_at - token.expires_at).total_seconds()) < 1


def test_a_token_made_by_hand_is_not_a_jwt() -> None:
    token = Token("opaque-access-token-value", 120, refresh_token="opaque-refresh")
    assert token.claims() == {}
    assert token.refresh_token == "opaque-refresh"
    assert 119 < token.expires_in() <= 120
    assert not token.is_expired()
    assert Token("x" * 40, 0).is_expired()


def test_the_constructor_reads_the_environment(monkeypatch: pytest.MonkeyPatch, mock: MockServer) -> None:
    monkeypatch.setenv("TWILIO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TWILIO_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    client = OAuthClient.from_env(base_url=mock.url)
    assert client.client_id == CLIENT_ID and client.has_client_secret
    assert client.create_token("client_credentials").access_token
    assert OAuthClient(base_url=mock.url).client_id == CLIENT_ID


def test_the_async_twins_are_awaitables_that_need_a_running_loop(client: OAuthClient) -> None:
    with pytest.raises(RuntimeError):
        client.client_credentials_async()


def test_the_package_exports_the_api_of_api_md() -> None:
    for name in (
        "OAuthClient TokenProvider Token DeviceAuthorization AuthorizationRequest TokenStore "
        "FileStore MemoryStore TwilioOAuthError ConfigError ApiError RateLimitedError "
        "AccessDeniedError ExpiredTokenError TransportError TimeoutError InvalidResponseError "
        "CancelledError StoreError TwilioCredentialProvider BearerAuth"
    ).split():
        assert getattr(twilio_oauth, name) is not None, name
