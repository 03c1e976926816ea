"""Type stubs of the extension module twilio_oauth._native (the Rust core's binding)."""

import builtins
import datetime
import os
from collections.abc import Awaitable, Sequence
from typing import Any, Literal, final

from ._store import TokenStore

__version__: str

__all__ = [
    "AccessDeniedError",
    "ApiError",
    "AuthorizationRequest",
    "CancellationToken",
    "CancelledError",
    "ConfigError",
    "DeviceAuthorization",
    "ExpiredTokenError",
    "FileStore",
    "InvalidResponseError",
    "LoginRequiredError",
    "MemoryStore",
    "OAuthClient",
    "RateLimitedError",
    "RedisStore",
    "Stats",
    "StoreError",
    "TimeoutError",
    "Token",
    "TokenProvider",
    "TransportError",
    "TwilioOAuthError",
    "__version__",
]

# ---- errors -------------------------------------------------------------------------------

class TwilioOAuthError(Exception):
    """The root of every error raised by twilio_oauth.

    ``message`` is the human text (what ``str(err)`` shows); ``server_message`` is the server's
    own words (API errors). The other fields are ``None`` when a kind does not have them.
    """

    status: int | None
    code: int | None
    error: str | None
    server_message: str | None
    more_info: str | None
    retry_after: float | None
    excerpt: str | None
    @property
    def message(self) -> str:
        """The human text: what ``str(err)`` shows."""
    @message.setter
    def message(self, value: str) -> None: ...

class ConfigError(TwilioOAuthError): ...
class ApiError(TwilioOAuthError): ...
class RateLimitedError(ApiError): ...

class LoginRequiredError(ApiError):
    """A person's login can no longer be refreshed: sign them in again (never an app token)."""

class AccessDeniedError(TwilioOAuthError): ...
class ExpiredTokenError(TwilioOAuthError): ...
class TransportError(TwilioOAuthError): ...
class TimeoutError(TwilioOAuthError, builtins.TimeoutError): ...
class InvalidResponseError(TwilioOAuthError): ...
class CancelledError(TwilioOAuthError): ...
class StoreError(TwilioOAuthError): ...

# ---- values -------------------------------------------------------------------------------

@final
class Token:
    """An access token with its companions and its expiry. The repr never shows a secret."""

    def __new__(
        cls, access_token: str, expires_in: float = 3600.0, *, refresh_token: str | None = None
    ) -> Token: ...
    @property
    def access_token(self) -> str: ...
    @property
    def token_type(self) -> str: ...
    @property
    def refresh_token(self) -> str | None: ...
    @property
    def id_token(self) -> str | None: ...
    @property
    def scope(self) -> str | None: ...
    @property
    def expires_at(self) -> datetime.datetime: ...
    @property
    def issued_at(self) -> datetime.datetime: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def lifetime(self) -> float: ...
    def expires_in(self) -> float: ...
    def is_expired(self) -> bool: ...
    def claims(self) -> dict[str, Any]: ...
    def authorization_header(self) -> str: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(json: str) -> Token: ...

@final
class DeviceAuthorization:
    """What to show the user, and the device code to poll with."""

    @property
    def device_code(self) -> str: ...
    @property
    def user_code(self) -> str: ...
    @property
    def verification_uri(self) -> str: ...
    @property
    def verification_uri_complete(self) -> str | None: ...
    @property
    def interval(self) -> float: ...
    @property
    def expires_at(self) -> datetime.datetime: ...
    @property
    def lifetime(self) -> float: ...
    def expires_in(self) -> float: ...

@final
class AuthorizationRequest:
    """The authorization URL, the state to check and the PKCE verifier to send."""

    @property
    def url(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def code_verifier(self) -> str: ...

@final
class Stats:
    """A token provider's counters."""

    @property
    def hits(self) -> int: ...
    @property
    def fetches(self) -> int: ...
    @property
    def background_refreshes(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def store_hits(self) -> int: ...
    @property
    def store_errors(self) -> int: ...
    def to_dict(self) -> dict[str, int]: ...

@final
class CancellationToken:
    """Cancels a blocking call from another thread."""

    def __new__(cls) -> CancellationToken: ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

# ---- stores -------------------------------------------------------------------------------

@final
class MemoryStore:
    """Keeps tokens in memory (the default store)."""

    def __new__(cls) -> MemoryStore: ...
    def load(self, key: str) -> Token | None: ...
    def save(self, key: str, token: Token) -> None: ...
    def delete(self, key: str) -> None: ...

@final
class FileStore:
    """Keeps tokens in one JSON file (mode 0600, replaced atomically), shared safely by processes."""

    def __new__(cls, path: str | os.PathLike[str]) -> FileStore: ...
    @property
    def path(self) -> str: ...
    def keys(self) -> list[str]: ...
    def load(self, key: str) -> Token | None: ...
    def save(self, key: str, token: Token) -> None: ...
    def delete(self, key: str) -> None: ...

@final
class RedisStore:
    """Keeps tokens in Redis (or Valkey), shared by a fleet: one token request per lifetime.

    Values are encrypted with AES-256-GCM under ``encryption_key`` (32 bytes, or their base64
    text; ``None`` reads ``TWILIO_OAUTH_ENCRYPTION_KEY``). Without a key, tokens are stored in
    the clear: bearer tokens that anyone who can read the Redis database can use.
    """

    def __new__(
        cls,
        url: str,
        *,
        key_prefix: str = "twilio-oauth:",
        encryption_key: bytes | str | None = None,
        lock_ttl: float | None = None,
    ) -> RedisStore: ...
    @property
    def encrypted(self) -> bool: ...
    @property
    def key_prefix(self) -> str: ...
    def keys(self) -> list[str]: ...
    def load(self, key: str) -> Token | None: ...
    def save(self, key: str, token: Token) -> None: ...
    def delete(self, key: str) -> None: ...

# ---- provider and client ------------------------------------------------------------------

@final
class TokenProvider:
    """The cached token that API calls use."""

    def token(self) -> Token: ...
    def token_async(self) -> Awaitable[Token]: ...
    def access_token(self) -> str: ...
    def access_token_async(self) -> Awaitable[str]: ...
    def authorization_header(self) -> str: ...
    def authorization_header_async(self) -> Awaitable[str]: ...
    def token_after_unauthorized(self, rejected_access_token: str) -> Token: ...
    def token_after_unauthorized_async(self, rejected_access_token: str) -> Awaitable[Token]: ...
    def cached(self) -> Token | None: ...
    def invalidate(self) -> None: ...
    def stats(self) -> Stats: ...
    @property
    def key(self) -> str: ...
    @property
    def grant(self) -> Literal["app", "user"]: ...

@final
class OAuthClient:
    """Configuration of a Twilio OAuth app, and the calls to Twilio's OAuth endpoints."""

    def __new__(
        cls,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        account_sid: str | None = None,
        auth_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        ca_pem: str | None = None,
        proxy: str | None = None,
    ) -> OAuthClient: ...
    @staticmethod
    def from_env(
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        ca_pem: str | None = None,
        proxy: str | None = None,
    ) -> OAuthClient: ...
    @property
    def client_id(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def has_client_secret(self) -> bool: ...
    def create_token(
        self,
        grant_type: str,
        *,
        code: str | None = None,
        code_verifier: str | None = None,
        device_code: str | None = None,
        device_id: str | None = None,
        refresh_token: str | None = None,
    ) -> Token: ...
    def create_token_async(
        self,
        grant_type: str,
        *,
        code: str | None = None,
        code_verifier: str | None = None,
        device_code: str | None = None,
        device_id: str | None = None,
        refresh_token: str | None = None,
    ) -> Awaitable[Token]: ...
    def create_device_code(
        self, scopes: Sequence[str], *, audiences: Sequence[str] | None = None
    ) -> DeviceAuthorization: ...
    def create_device_code_async(
        self, scopes: Sequence[str], *, audiences: Sequence[str] | None = None
    ) -> Awaitable[DeviceAuthorization]: ...
    def create_oauth2_token(
        self,
        grant_type: str,
        *,
        code: str | None = None,
        redirect_uri: str | None = None,
        audience: str | None = None,
        refresh_token: str | None = None,
        scope: str | None = None,
        code_verifier: str | None = None,
        account_sid: str | None = None,
    ) -> Token: ...
    def create_oauth2_token_async(
        self,
        grant_type: str,
        *,
        code: str | None = None,
        redirect_uri: str | None = None,
        audience: str | None = None,
        refresh_token: str | None = None,
        scope: str | None = None,
        code_verifier: str | None = None,
        account_sid: str | None = None,
    ) -> Awaitable[Token]: ...
    def client_credentials(
        self, scope: str | None = None, audience: str | None = None, account_sid: str | None = None
    ) -> Token: ...
    def client_credentials_async(
        self, scope: str | None = None, audience: str | None = None, account_sid: str | None = None
    ) -> Awaitable[Token]: ...
    def exchange_code(
        self, code: str, redirect_uri: str | None = None, code_verifier: str | None = None
    ) -> Token: ...
    def exchange_code_async(
        self, code: str, redirect_uri: str | None = None, code_verifier: str | None = None
    ) -> Awaitable[Token]: ...
    def refresh(self, refresh_token: str) -> Token: ...
    def refresh_async(self, refresh_token: str) -> Awaitable[Token]: ...
    def authorization_url(
        self, redirect_uri: str, scope: str | None = None, state: str | None = None
    ) -> AuthorizationRequest: ...
    def poll_device_token(
        self,
        device_authorization: DeviceAuthorization,
        *,
        cancel: CancellationToken | None = None,
    ) -> Token: ...
    def poll_device_token_async(
        self,
        device_authorization: DeviceAuthorization,
        *,
        cancel: CancellationToken | None = None,
    ) -> Awaitable[Token]: ...
    def token_provider(
        self,
        *,
        scope: str | None = None,
        audience: str | None = None,
        store: MemoryStore | FileStore | RedisStore | TokenStore | None = None,
        refresh_ahead: float | None = None,
        expiry_margin: float | None = None,
        initial_token: Token | None = None,
        account_sid: str | None = None,
        account: str | None = None,
        grant: Literal["app", "user"] | None = None,
    ) -> TokenProvider: ...

# ---- process lifecycle --------------------------------------------------------------------

def _after_fork_in_child() -> None:
    """Registered with ``os.register_at_fork``: the child starts a runtime of its own."""
