"""``TwilioCredentialProvider``: our cached token for the official ``twilio`` SDK (9.x).

::

    from twilio.rest import Client
    from twilio_oauth import OAuthClient, TwilioCredentialProvider

    provider = OAuthClient.from_env().token_provider()
    client = Client(account_sid="AC...", credential_provider=TwilioCredentialProvider(provider))

The SDK asks the credential provider for an auth strategy and calls its ``get_auth_string()``
on every request; here that is ``provider.authorization_header()``, a cache hit answered in
Rust without decoding the token again. Importing this module imports ``twilio``.
"""

from __future__ import annotations

# twilio ships no type information.
from twilio.auth_strategy.auth_strategy import AuthStrategy  # type: ignore[import-untyped]
from twilio.auth_strategy.auth_type import AuthType  # type: ignore[import-untyped]
from twilio.credential.credential_provider import (  # type: ignore[import-untyped]
    CredentialProvider,
)

from ._native import OAuthClient, TokenProvider

__all__ = ["TwilioAuthStrategy", "TwilioCredentialProvider"]


class TwilioAuthStrategy(AuthStrategy):  # type: ignore[misc]
    """The auth strategy the SDK calls on each request."""

    def __init__(self, provider: TokenProvider) -> None:
        super().__init__(AuthType.CLIENT_CREDENTIALS)
        self.provider = provider

    def get_auth_string(self) -> str:
        return self.provider.authorization_header()

    def requires_authentication(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<TwilioAuthStrategy provider={self.provider!r}>"


class TwilioCredentialProvider(CredentialProvider):  # type: ignore[misc]
    """A ``twilio.rest.Client(credential_provider=...)`` backed by a ``TokenProvider``.

    Accepts a ``TokenProvider`` or an ``OAuthClient`` (whose default provider is then used).
    """

    def __init__(self, provider: TokenProvider | OAuthClient) -> None:
        super().__init__(AuthType.CLIENT_CREDENTIALS)
        if isinstance(provider, OAuthClient):
            provider = provider.token_provider()
        self.provider = provider
        self.auth_strategy = TwilioAuthStrategy(provider)

    def to_auth_strategy(self) -> TwilioAuthStrategy:
        return self.auth_strategy

    def __repr__(self) -> str:
        return f"<TwilioCredentialProvider provider={self.provider!r}>"
