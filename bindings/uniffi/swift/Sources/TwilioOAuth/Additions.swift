// Written by hand (TwilioOAuth.swift is generated): the Swift-only parts of the API, which
// uniffi cannot express: `RedisStore(url:…)` under the name the other languages use, and the
// former names, kept as deprecated aliases.

import Foundation

/// A token store in Redis or Valkey, shared by every process of a fleet: pass it as
/// `tokenProvider(store: RedisStore(url: "redis://…"))`, wherever a `TokenStore` is accepted.
///
/// `url` is `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS; every key starts
/// with `keyPrefix`. With `encryptionKey` (32 bytes; else the base64 key in the environment
/// variable `TWILIO_OAUTH_ENCRYPTION_KEY`) values are encrypted with AES-256-GCM. **Without one,
/// tokens are stored in the clear: bearer tokens that anyone who can read the database can use.**
///
/// The fleet makes one token request per lifetime: a provider takes a fleet-wide lock in Redis
/// around a fetch and uses a token another process already fetched. Redis down or slow: every
/// provider carries on alone, counting `stats().storeErrors`. No connection is made here; a
/// malformed URL or key throws `TwilioOAuthError.Config`. The same as `redisTokenStore`.
public func RedisStore(
    url: String, keyPrefix: String = "twilio-oauth:", encryptionKey: Data? = nil,
    lockTtl: TimeInterval? = nil
) throws -> TokenStore {
    try redisTokenStore(url: url, keyPrefix: keyPrefix, encryptionKey: encryptionKey, lockTtl: lockTtl)
}

extension TokenProvider {
    /// The former name of `cached()`.
    @available(*, deprecated, renamed: "cached()")
    public func cachedToken() -> Token? {
        cached()
    }
}
