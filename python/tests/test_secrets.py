"""No secret in any repr, str or error message."""

from __future__ import annotations

import pytest

from support import AUTH_TOKEN, CLIENT_SECRET, MockServer, assert_no_secret
from twilio_oauth import ApiError, BearerAuth, InvalidResponseError, OAuthClient, TwilioCredentialProvider


def shown(*objects: object) -> str:
    return "\n".join(f"{o!r} {o!s}" for o in objects)


def test_reprs_never_show_a_secret(client: OAuthClient, public_client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1)
    provider = client.token_provider()
    token = provider.token()
    device = client.create_device_code(["offline_access"])
    mock.approve(device.user_code)
    user_token = client.poll_device_token(device)
    request = public_client.authorization_url("http://localhost/cb", scope="openid")
    text = shown(
        client,
        public_client,
        provider,
        token,
        user_token,
        device,
        request,
        provider.stats(),
        BearerAuth(provider),
        TwilioCredentialProvider(provider),
        TwilioCredentialProvider(provider).to_auth_strategy(),
    )
    assert user_token.refresh_token and user_token.id_token
    assert_no_secret(
        text,
        CLIENT_SECRET,
        AUTH_TOKEN,
        token.access_token,
        user_token.access_token,
        user_token.refresh_token,
        user_token.id_token,
        device.device_code,
        request.code_verifier,
    )
    assert device.user_code in repr(device)
    assert "[redacted]" in repr(client)


def test_error_messages_never_show_a_secret(client: OAuthClient, mock: MockServer) -> None:
    token = client.token_provider().token()
    assert token.refresh_token is None
    mock.fault("/v2/token", {"status": 400, "body": {"error": "invalid_grant", "error_description": "nope"}})
    with pytest.raises(ApiError) as caught:
        client.refresh("refresh-token-that-must-stay-secret")
    e = caught.value
    text = shown(e) + " ".join(
        str(getattr(e, a)) for a in ("message", "server_message", "error", "more_info", "excerpt")
    )
    assert_no_secret(text, "refresh-token-that-must-stay-secret", token.access_token)


@pytest.mark.parametrize(
    "body",
    [
        '{"access_token": "opaque-access-token-RECOGNISABLE-1e2f',
        '{"access_token": "opaque-access-token-RECOGNISABLE-1e2f", "token_type": 5}',
        '{"refresh_token": "opaque-access-token-RECOGNISABLE-1e2f", "token_type": "Bearer"}',
    ],
)
def test_an_unusable_2xx_body_keeps_its_token_out_of_the_error(
    client: OAuthClient, mock: MockServer, body: str
) -> None:
    # Such a body is echoed as an excerpt for diagnosis; whatever may be a secret is masked.
    mock.fault("/v2/token", {"status": 200, "body": body})
    with pytest.raises(InvalidResponseError) as caught:
        client.client_credentials()
    e = caught.value
    text = shown(e) + " ".join(str(getattr(e, a)) for a in ("message", "excerpt"))
    assert_no_secret(text, "opaque-access-token-RECOGNISABLE-1e2f")
    assert e.status == 200 and e.excerpt
