"""Every error class, with its fields, raised from real failures."""

from __future__ import annotations

import builtins
import pickle
import socket
from pathlib import Path
from typing import Any

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
    assert (e.status, e.code, e.server_message, e.more_info) == (
        401,
        20003,
        "Authenticate",
        "https://www.twilio.com/docs/errors/20003",
    )
    assert e.error is None and e.retry_after is None and e.excerpt is None
    # One meaning of `message` for every error: the human text, what str() shows.
    assert (
        e.message
        == str(e)
        == "HTTP 401, code 20003: Authenticate (see https://www.twilio.com/docs/errors/20003)"
    )


async def test_an_rfc6749_error_body_becomes_api_error_async(client: OAuthClient, mock: MockServer) -> None:
    mock.fault(
        "/v2/token",
        {"status": 400, "body": {"error": "invalid_grant", "error_description": "bad code"}},
    )
    with pytest.raises(ApiError) as caught:
        await client.exchange_code_async("some-code", redirect_uri="http://localhost/cb")
    assert (caught.value.status, caught.value.error, caught.value.server_message) == (
        400,
        "invalid_grant",
        "bad code",
    )
    assert caught.value.message == str(caught.value) and "bad code" in caught.value.message


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
    assert caught.value.message == str(caught.value) and caught.value.server_message is None


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
    assert (again.message, again.server_message) == (caught.value.message, caught.value.server_message)


def panic_hook(name: str) -> Any:
    """A test hook of the wheel: CI builds it with the `test-hooks` feature, so it must be there."""
    native = twilio_oauth._native
    assert hasattr(native, name), f"the wheel was built without the test-hooks feature (no {name})"
    return getattr(native, name)


def assert_is_a_caught_panic(error: TwilioOAuthError) -> None:
    assert type(error) is TwilioOAuthError
    assert "panic inside twilio-oauth" in str(error) and "deliberate panic" in str(error)
    assert error.message == str(error) and error.status is None and error.server_message is None


def test_a_panic_inside_the_core_is_a_twilio_oauth_error() -> None:
    with pytest.raises(TwilioOAuthError) as caught:
        panic_hook("_panic_for_test")()
    assert_is_a_caught_panic(caught.value)


async def test_a_panic_inside_the_core_is_a_twilio_oauth_error_async() -> None:
    with pytest.raises(TwilioOAuthError) as caught:
        await panic_hook("_panic_for_test_async")()
    assert_is_a_caught_panic(caught.value)


def test_a_panic_in_a_synchronous_call_is_a_twilio_oauth_error() -> None:
    with pytest.raises(TwilioOAuthError) as caught:
        panic_hook("_panic_for_test_sync")()
    assert_is_a_caught_panic(caught.value)


def test_users_can_raise_and_catch_the_classes_themselves() -> None:
    with pytest.raises(TwilioOAuthError) as caught:
        raise ApiError("made by hand")
    assert str(caught.value) == caught.value.message == "made by hand"
    assert caught.value.status is None and caught.value.code is None
    assert caught.value.server_message is None


def test_a_subclass_that_sets_its_own_message_keeps_it() -> None:
    class AppError(ApiError):
        def __init__(self, message: str) -> None:
            super().__init__(f"app: {message}")
            self.message = message

    e = AppError("quota")
    assert (e.message, str(e)) == ("quota", "app: quota")
    again = pickle.loads(pickle.dumps(ApiError("pickled")))
    assert again.message == "pickled"


def every_kind_raised(
    client: OAuthClient, public_client: OAuthClient, mock: MockServer
) -> list[TwilioOAuthError]:
    """One real error of as many kinds as a client can meet, each raised by the core."""
    raised: list[TwilioOAuthError] = []

    def catch(call: Any) -> None:
        try:
            call()
        except TwilioOAuthError as e:
            raised.append(e)
        else:
            raise AssertionError(f"{call} did not raise")

    catch(lambda: OAuthClient(client_id="OQ123"))
    catch(lambda: Token("", 60))
    mock.fault(
        "/v2/token", {"status": 401, "body": {"code": 20003, "message": "Authenticate", "status": 401}}
    )
    catch(client.client_credentials)
    mock.fault("/v2/token", {"status": 429, "headers": {"Retry-After": "2"}})
    catch(client.client_credentials)
    mock.fault("/v2/token", {"status": 200, "body": "<html>maintenance</html>"})
    catch(client.client_credentials)
    catch(lambda: Token.from_json("{not json"))
    catch(lambda: public_client.token_provider(grant="user").token())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    catch(OAuthClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=closed).client_credentials)
    mock.config(latency_ms=2000)
    slow = OAuthClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=mock.url, timeout=0.2)
    catch(slow.client_credentials)
    mock.config(latency_ms=0)
    cancel = twilio_oauth.CancellationToken()
    cancel.cancel()
    device = client.create_device_code(["offline_access"])
    catch(lambda: client.poll_device_token(device, cancel=cancel))
    return raised


def test_every_raised_error_has_message_equal_to_its_text_and_the_server_words_apart(
    client: OAuthClient, public_client: OAuthClient, mock: MockServer
) -> None:
    raised = every_kind_raised(client, public_client, mock)
    kinds = [type(e).__name__ for e in raised]
    assert kinds == [
        "ConfigError",
        "ConfigError",
        "ApiError",
        "RateLimitedError",
        "InvalidResponseError",
        "StoreError",
        "LoginRequiredError",
        "TransportError",
        "TimeoutError",
        "CancelledError",
    ]
    for e in raised:
        assert e.message == str(e) and e.message, kinds
        assert e.args == (e.message,)
        if isinstance(e, ApiError):
            assert e.server_message and e.server_message in e.message
        else:
            assert e.server_message is None
    api, limited = raised[2], raised[3]
    assert api.server_message == "Authenticate" and api.status == 401
    assert limited.retry_after == 2.0 and limited.status == 429


def test_config_errors_do_not_echo_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        OAuthClient(
            client_id=CLIENT_ID, client_secret="s3cret-value", account_sid="ACbad", auth_token=AUTH_TOKEN
        )
    assert_no_secret(str(caught.value), "s3cret-value")
    assert ACCOUNT_SID not in str(caught.value)
