"""The interface a custom token store implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._native import Token


@runtime_checkable
class TokenStore(Protocol):
    """Where cached tokens live between runs (a database, a secrets manager, the keyring).

    Pass any object with these three methods as ``token_provider(store=...)``. They are called
    from a worker thread with the GIL held, only when the cache misses or a new token arrives.
    An exception is logged (logger ``twilio_oauth``) and the provider goes on without the store.
    Keep what ``save`` receives as secret as a password: ``token.to_json()`` and
    ``Token.from_json()`` serialise it completely.
    """

    def load(self, key: str) -> Token | None:
        """The token saved under ``key``, or ``None``."""
        ...

    def save(self, key: str, token: Token) -> None:
        """Saves ``token`` under ``key``, replacing what was there."""
        ...

    def delete(self, key: str) -> None:
        """Forgets ``key``."""
        ...
