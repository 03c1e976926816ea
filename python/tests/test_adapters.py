"""The adapters: the twilio SDK's credential provider, and BearerAuth for requests and httpx."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import httpx
import requests
from twilio.http import HttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from support import ACCOUNT_SID, MockServer
from twilio_oauth import BearerAuth, OAuthClient, TwilioCredentialProvider


def test_importing_the_package_imports_none_of_the_optional_libraries() -> None:
    code = (
        "import sys, twilio_oauth\n"
        "loaded = [m for m in ('twilio', 'requests', 'httpx') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert twilio_oauth.BearerAuth and 'twilio' not in sys.modules\n"
        "assert twilio_oauth.TwilioCredentialProvider and 'twilio' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")


class RecordingHttpClient(HttpClient):  # type: ignore[misc]
    """Records what the SDK sends and answers with a canned account."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("recording"), False, None)
        self.sent: list[dict[str, Any]] = []

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.sent.append({"method": method, "url": url, "headers": dict(headers or {}), "auth": auth})
        body = {"sid": ACCOUNT_SID, "friendly_name": "recorded", "status": "active", "type": "Full"}
        return Response(200, json.dumps(body))


def test_the_twilio_sdk_sends_our_cached_bearer_token(client: OAuthClient, mock: MockServer) -> None:
    provider = client.token_provider()
    http = RecordingHttpClient()
    twilio = Client(
        account_sid=ACCOUNT_SID,
        credential_provider=TwilioCredentialProvider(provider),
        http_client=http,
    )
    for _ in range(5):
        account = twilio.api.v2010.accounts(ACCOUNT_SID).fetch()
        assert account.sid == ACCOUNT_SID
    assert len(http.sent) == 5
    headers = {r["headers"]["Authorization"] for r in http.sent}
    assert len(headers) == 1
    (bearer,) = headers
    assert bearer.startswith("Bearer ey")
    assert all(r["auth"] is None for r in http.sent)
    assert all(r["url"].startswith("https://api.twilio.com/2010-04-01/Accounts/") for r in http.sent)
    # 5 API calls, 1 token request; and the header is one the API accepts.
    assert mock.requests("/v2/token") == 1
    assert mock.account_status(bearer) == 200


def test_the_credential_provider_accepts_an_oauth_client(client: OAuthClient, mock: MockServer) -> None:
    strategy = TwilioCredentialProvider(client).to_auth_strategy()
    assert strategy.requires_authentication()
    assert mock.account_status(strategy.get_auth_string()) == 200


def test_requests_with_bearer_auth_reaches_the_api(client: OAuthClient, mock: MockServer) -> None:
    auth = BearerAuth(client.token_provider())
    with requests.Session() as session:
        for _ in range(3):
            response = session.get(mock.account_url(), auth=auth, timeout=10)
            assert response.status_code == 200
            assert response.json()["sid"] == ACCOUNT_SID
    assert mock.requests("/v2/token") == 1


def test_requests_retries_once_after_a_401_with_a_new_token(client: OAuthClient, mock: MockServer) -> None:
    provider = client.token_provider()
    rejected = provider.token()
    mock.fault(f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", {"status": 401})
    response = requests.get(mock.account_url(), auth=BearerAuth(provider), timeout=10)
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert response.request.headers["Authorization"] != rejected.authorization_header()
    assert mock.requests("/v2/token") == 2


def test_requests_gives_up_after_a_second_401(client: OAuthClient, mock: MockServer) -> None:
    mock.fault(f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", {"status": 401, "repeat": 2})
    response = requests.get(mock.account_url(), auth=BearerAuth(client.token_provider()), timeout=10)
    assert response.status_code == 401
    assert mock.requests(f"/2010-04-01/Accounts/{ACCOUNT_SID}.json") == 2


def test_requests_recovers_from_a_token_the_api_no_longer_accepts(
    client: OAuthClient, mock: MockServer
) -> None:
    from twilio_oauth import Token

    # An app token (grant="app": a token given without one is a person's) the API refuses.
    provider = client.token_provider(initial_token=Token("revoked-access-token-value", 600), grant="app")
    response = requests.get(mock.account_url(), auth=BearerAuth(provider), timeout=10)
    assert response.status_code == 200
    assert provider.access_token() != "revoked-access-token-value"
    assert mock.requests("/v2/token") == 1


def test_httpx_with_bearer_auth_reaches_the_api_and_retries_a_401(
    client: OAuthClient, mock: MockServer
) -> None:
    auth = BearerAuth(client.token_provider())
    with httpx.Client(auth=auth, timeout=10) as http:
        assert http.get(mock.account_url()).json()["sid"] == ACCOUNT_SID
        mock.fault(f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", {"status": 401})
        response = http.get(mock.account_url())
        assert response.status_code == 200
        assert [r.status_code for r in response.history] == [401]
    assert mock.requests("/v2/token") == 2


async def test_httpx_async_with_bearer_auth_reaches_the_api_and_retries_a_401(
    client: OAuthClient, mock: MockServer
) -> None:
    auth = BearerAuth(client.token_provider())
    async with httpx.AsyncClient(auth=auth, timeout=10) as http:
        assert (await http.get(mock.account_url())).status_code == 200
        mock.fault(f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", {"status": 401})
        response = await http.get(mock.account_url())
        assert response.status_code == 200
        assert [r.status_code for r in response.history] == [401]
    assert mock.requests("/v2/token") == 2
