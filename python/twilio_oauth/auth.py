"""``BearerAuth``: our cached token as ``Authorization: Bearer …`` for ``requests`` and ``httpx``.

::

    import requests, httpx
    from twilio_oauth import BearerAuth

    auth = BearerAuth(provider)
    requests.get(url, auth=auth)
    httpx.get(url, auth=auth)
    async with httpx.AsyncClient(auth=auth) as client:
        await client.get(url)

On a 401 the request is sent once more with a token other than the rejected one
(``token_after_unauthorized``: the cached token is dropped unless another caller already
replaced it). Importing this module imports whichever of ``requests`` and ``httpx`` is
installed; ``import twilio_oauth`` alone imports neither.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._native import OAuthClient, TokenProvider

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator

    import httpx
    import requests
    from httpx import Auth as _HttpxAuth
    from requests.auth import AuthBase as _RequestsAuth

    class _Base(_RequestsAuth, _HttpxAuth): ...

else:

    def _optional(module: str, name: str) -> Any:
        try:
            return getattr(importlib.import_module(module), name)
        except ImportError:
            return None

    _bases = tuple(
        base
        for base in (_optional("requests.auth", "AuthBase"), _optional("httpx", "Auth"))
        if base is not None
    )

    class _Base(*_bases):
        pass


__all__ = ["BearerAuth"]


class BearerAuth(_Base):
    """``auth=`` for ``requests`` (an ``AuthBase``) and ``httpx`` (an ``httpx.Auth``, sync and
    async clients), backed by a ``TokenProvider`` (or an ``OAuthClient``'s default provider)."""

    def __init__(self, provider: TokenProvider | OAuthClient) -> None:
        if isinstance(provider, OAuthClient):
            provider = provider.token_provider()
        self.provider = provider

    def __repr__(self) -> str:
        return f"<BearerAuth provider={self.provider!r}>"

    # ---- requests ---------------------------------------------------------------------------

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.provider.token()
        request.headers["Authorization"] = token.authorization_header()
        rejected = token.access_token
        provider = self.provider

        def retry_once_after_401(response: requests.Response, **kwargs: Any) -> requests.Response:
            if response.status_code != 401 or response.connection is None:
                return response
            fresh = provider.token_after_unauthorized(rejected)
            retry = response.request.copy()
            retry.headers["Authorization"] = fresh.authorization_header()
            # The copy shares the hooks dict: give it one without this hook (retry once only).
            retry.hooks = {
                event: [h for h in hooks if h is not retry_once_after_401]
                for event, hooks in response.request.hooks.items()
            }
            # Read the 401 to the end so that its connection goes back to the pool.
            _ = response.content
            response.close()
            again: requests.Response = response.connection.send(retry, **kwargs)
            again.history.append(response)
            again.request = retry
            return again

        request.register_hook("response", retry_once_after_401)
        return request

    # ---- httpx ------------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.provider.token()
        request.headers["Authorization"] = token.authorization_header()
        response = yield request
        if response.status_code == 401:
            fresh = self.provider.token_after_unauthorized(token.access_token)
            request.headers["Authorization"] = fresh.authorization_header()
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.provider.token_async()
        request.headers["Authorization"] = token.authorization_header()
        response = yield request
        if response.status_code == 401:
            fresh = await self.provider.token_after_unauthorized_async(token.access_token)
            request.headers["Authorization"] = fresh.authorization_header()
            yield request
