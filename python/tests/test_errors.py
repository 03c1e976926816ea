"""Every error class, with its fields, raised from real failures."""

from __future__ import annotations

import builtins
import pickle
import socket
from pathlib import Path

import pytest

import twilio_oauth
from support import ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, MockServer, assert_no_secret
from twilio_oauth import (
    AccessDeniedError,
    ApiError,
    CancelledError,
    ConfigError,
    ExpiredTokenError,
    FileStore,
    InvalidResponseError,
    LoginRequiredError,
    OAuthClient,
    RateLimitedError,
    StoreError,
    Token,
    TransportError,
    TwilioOAuthError,
)

ALL = [
    ConfigError,
    ApiError,
    RateLimitedError,
    LoginRequiredError,
    AccessDeniedError,
    ExpiredTokenError,
    TransportError,
    twilio_oauth.TimeoutError,
    InvalidResponseError,
    CancelledError,
    StoreError,
]


def test_the_error_tree_has_one_root() -> None:
    for cls in ALL:
        assert issubclass(cls, TwilioOAuthError) and issubclass(cls, Exception)
        assert cls.__module__ == "twilio_oauth"
    assert issubclass(RateLimitedError, ApiError)
    assert issubclass(LoginRequiredError, ApiError) and not issubclass(LoginRequiredError, RateLimitedError)
    assert "LoginRequiredError" in twilio_oauth.__all__
    assert issubclass(twilio_oauth.TimeoutError, builtins.TimeoutError)
    assert twilio_oauth.TimeoutError is not builtins.TimeoutError


@pytest.mark.parametrize(
    "options",
    [
        {"client_id": "OQ123"},
        {"client_id": "AC0123456789abcdef0123456789abcdef"},
        {"client_id": CLIENT_ID, "client_secret": ""},
        {"client_id": CLIENT_ID, "base_url": "http://oauth.example.com"},
        {"client_id": CLIENT_ID, "timeout": -1},
        {"client_id": CLIENT_ID, "max_retries": -1},
        {},
    ],
    ids=[
        "short-id",
        "wrong-prefix",
        "empty-secret",
        "plain-http",
        "negative-timeout",
        "negative-retries",
        "no-id",
    ],
)
def test_bad_options_raise_config_error(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        OAuthClient(**options)  # type: ignore[arg-type]
    assert caught.value.message and caught.value.status is None


def test_a_missing_credential_for_an_endpoint_is_a_config_error(mock: MockServer) -> None:
    client = OAuthClient(client_id=CLIENT_ID, base_url=mock.url)
    with pytest.raises(ConfigError, match="client_secret"):
        client.client_credentials()
    with pytest.raises(ConfigError, match="account_sid"):
        client.create_token("client_credentials")


def test_a_twilio_error_body_becomes_api_error_with_its_fields(client: OAuthClient, mock: MockServer) -> None:
    mock.fault(
        "/v2/token",
        {
            "status": 401,
            "body": {
                "code": 20003,
                "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": 401,
            },
        },
    )
    with pytest.raises(ApiError) as caught:
        client.client_credentials()
    e = caught.value
    assert type(e) is ApiError
    assert (e.status, e.code, e.message, e.more_info) == (
        401,
        20003,
        "Authenticate",
        "https://www.twilio.com/docs/errors/20003",
    )
    assert e.error is None and e.retry_after is None
    assert "20003" in str(e)


async def test_an_rfc6749_error_body_becomes_api_error_async(client: OAuthClient, mock: MockServer) -> None:
    mock.fault(
        "/v2/token",
        {"status": 400, "body": {"error": "invalid_grant", "error_description": "bad code"}},
    )
    with pytest.raises(ApiError) as caught:
        await client.exchange_code_async("some-code", redirect_uri="http://localhost/cb")
    assert (caught.value.status, caught.value.error, caught.value.message) == (
        400,
        "invalid_grant",
        "bad code",
    )


def test_wrong_credentials_are_an_api_error(mock: MockServer) -> None:
    client = OAuthClient(
        client_id=CLIENT_ID, client_secret="not-the-secret", base_url=mock.url, max_retries=0
    )
    with pytest.raises(ApiError) as caught:
        client.client_credentials()
    assert caught.value.status is not None and 400 <= caught.value.status < 500
    assert_no_secret(str(caught.value), "not-the-secret")


def test_429_after_retries_is_rate_limited_with_retry_after(client: OAuthClient, mock: MockServer) -> None:
    mock.fault("/v2/token", {"status": 429, "headers": {"Retry-After": "7"}})
    with pytest.raises(RateLimitedError) as caught:
        client.client_credentials()
    e = caught.value
    assert isinstance(e, ApiError)
    assert e.status == 429 and e.retry_after == 7.0


def test_device_denied_is_access_denied(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1)
    device = client.create_device_code(["offline_access"])
    mock.deny(device.user_code)
    with pytest.raises(AccessDeniedError) as caught:
        client.poll_device_token(device)
    assert caught.value.message


def test_a_device_code_that_expires_is_expired_token(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1, device_expires_in=2)
    device = client.create_device_code(["offline_access"])
    with pytest.raises(ExpiredTokenError) as caught:
        client.poll_device_token(device)
    assert device.user_code in str(caught.value)


def test_the_server_saying_expired_token_is_expired_token(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1)
    device = client.create_device_code(["offline_access"])
    mock.fault("/v1/token", {"status": 400, "body": {"error": "expired_token", "error_description": "gone"}})
    with pytest.raises(ExpiredTokenError, match="gone"):
        client.poll_device_token(device)


def test_a_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OAuthClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=f"http://127.0.0.1:{port}", max_retries=0
    )
    with pytest.raises(TransportError) as caught:
        client.client_credentials()
    assert caught.value.status is None and caught.value.message


def test_a_dropped_connection_is_a_transport_error(client: OAuthClient, mock: MockServer) -> None:
    mock.fault("/v2/token", {"drop": True})
    with pytest.raises(TransportError):
        client.client_credentials()


def test_a_slow_server_is_a_timeout_error(mock: MockServer) -> None:
    mock.config(latency_ms=3000)
    client = OAuthClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=mock.url, timeout=0.3, max_retries=0
    )
    with pytest.raises(twilio_oauth.TimeoutError) as caught:
        client.client_credentials()
    assert isinstance(caught.value, builtins.TimeoutError)


async def test_a_slow_server_is_a_timeout_error_async(mock: MockServer) -> None:
    mock.config(latency_ms=3000)
    client = OAuthClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=mock.url, timeout=0.3, max_retries=0
    )
    with pytest.raises(twilio_oauth.TimeoutError):
        await client.client_credentials_async()


def test_a_2xx_without_a_token_is_invalid_response(client: OAuthClient, mock: MockServer) -> None:
    mock.fault("/v2/token", {"status": 200, "body": "<html>maintenance</html>"})
    with pytest.raises(InvalidResponseError) as caught:
        client.client_credentials()
    e = caught.value
    assert e.status == 200
    assert e.excerpt is not None and e.excerpt.startswith("<html>maintenance")


def test_a_cancellation_token_cancels_a_blocking_poll(client: OAuthClient, mock: MockServer) -> None:
    import threading

    mock.config(device_interval=1)
    device = client.create_device_code(["offline_access"])
    cancel = twilio_oauth.CancellationToken()

    def cancel_after_first_poll() -> None:
        mock.wait_until(lambda: mock.device(device.user_code)["polls"] >= 1, "the device was polled")
        cancel.cancel()

    helper = threading.Thread(target=cancel_after_first_poll, daemon=True)
    helper.start()
    with pytest.raises(CancelledError):
        client.poll_device_token(device, cancel=cancel)
    helper.join(10)
    assert cancel.cancelled


def test_a_file_store_that_cannot_write_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    store = FileStore(blocker / "tokens.json")
    with pytest.raises(StoreError) as caught:
        store.save("key", Token("access-token-for-the-store-test", 60))
    assert "access-token-for-the-store-test" not in str(caught.value)


def test_a_token_without_an_access_token_or_with_a_bad_lifetime_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="access token"):
        Token("", 60)
    with pytest.raises(ConfigError, match="expires_in"):
        Token("an-access-token-value", -1)
    assert Token("an-access-token-value", 60, refresh_token="").refresh_token is None


def test_a_corrupted_stored_token_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        Token.from_json("{not json")


def test_errors_pickle_with_their_fields(client: OAuthClient, mock: MockServer) -> None:
    mock.fault("/v2/token", {"status": 429, "headers": {"Retry-After": "3"}})
    with pytest.raises(RateLimitedError) as caught:
        client.client_credentials()
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is RateLimitedError
    assert (again.status, again.retry_after, str(again)) == (429, 3.0, str(caught.value))


def test_a_panic_inside_the_core_is_a_twilio_oauth_error() -> None:
    native = twilio_oauth._native
    if not hasattr(native, "_panic_for_test"):
        pytest.skip("the wheel was built without the test-hooks feature")
    with pytest.raises(TwilioOAuthError) as caught:
        native._panic_for_test()
    assert type(caught.value) is TwilioOAuthError
    assert "panic" in str(caught.value)


async def test_a_panic_inside_the_core_is_a_twilio_oauth_error_async() -> None:
    native = twilio_oauth._native
    if not hasattr(native, "_panic_for_test_async"):
        pytest.skip("the wheel was built without the test-hooks feature")
    with pytest.raises(TwilioOAuthError) as caught:
        await native._panic_for_test_async()
    assert type(caught.value) is TwilioOAuthError


def test_users_can_raise_and_catch_the_classes_themselves() -> None:
    with pytest.raises(TwilioOAuthError) as caught:
        raise ApiError("made by hand")
    assert str(caught.value) == "made by hand"
    assert caught.value.status is None and caught.value.code is None


def test_config_errors_do_not_echo_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        OAuthClient(
            client_id=CLIENT_ID, client_secret="s3cret-value", account_sid="ACbad", auth_token=AUTH_TOKEN
        )
    assert_no_secret(str(caught.value), "s3cret-value")
    assert ACCOUNT_SID not in str(caught.value)
