"""Twilio OAuth for Python: access tokens, device authorization, refresh and PKCE, with a token
cache that is correct under concurrency.

Everything runs in the Rust core (``twilio_oauth._native``); this package re-exports it and adds
the adapters for the ``twilio`` SDK, ``requests`` and ``httpx``, which are imported only when
used::

    from twilio_oauth import OAuthClient

    client = OAuthClient(client_id="OQ...", client_secret="...")
    provider = client.token_provider()
    headers = {"Authorization": provider.authorization_header()}

Fork-safe: a child process created by ``fork()`` (gunicorn ``--preload``, ``multiprocessing``,
Celery prefork) starts a runtime of its own, through the hook registered below.
"""

from __future__ import annotations

import os

from . import _native
from ._native import (
    AccessDeniedError,
    ApiError,
    AuthorizationRequest,
    CancellationToken,
    CancelledError,
    ConfigError,
    DeviceAuthorization,
    ExpiredTokenError,
    FileStore,
    InvalidResponseError,
    LoginRequiredError,
    MemoryStore,
    OAuthClient,
    RateLimitedError,
    RedisStore,
    Stats,
    StoreError,
    TimeoutError,
    Token,
    TokenProvider,
    TransportError,
    TwilioOAuthError,
    __version__,
)

# Not `typing.TYPE_CHECKING`: importing `typing` would double the import time of the package.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._store import TokenStore
    from .auth import BearerAuth as BearerAuth
    from .twilio_sdk import TwilioCredentialProvider as TwilioCredentialProvider

# After fork() the child has only the forking thread: the hook makes it start a runtime and an
# HTTP client of its own instead of waiting on the parent's threads. (`os` is loaded at startup.)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_native._after_fork_in_child)

# The adapters are left out of `__all__`, so that `from twilio_oauth import *` imports neither
# twilio, requests nor httpx.
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
    "TokenStore",
    "TransportError",
    "TwilioOAuthError",
    "__version__",
]

# The adapters import their library (twilio, requests, httpx) when first used, never on
# `import twilio_oauth`; the TokenStore protocol imports `typing`.
_LAZY = {
    "BearerAuth": ".auth",
    "TokenStore": "._store",
    "TwilioCredentialProvider": ".twilio_sdk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twilio_oauth' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
