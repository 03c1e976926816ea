// Written by hand: our cached token for twilio-java (`com.twilio.sdk:twilio` 10.x), the
// equivalent of Python's `TwilioCredentialProvider` and Node's `toTwilioCredentialProvider()`.
// twilio-java is an optional dependency of this package: an app that uses these classes depends
// on it itself; the other classes of the package never load them.
@file:JvmName("TwilioJava")

package twiliooauth

import com.twilio.auth_strategy.AuthStrategy
import com.twilio.constant.EnumConstants
import com.twilio.credential.CredentialProvider

/**
 * The auth strategy twilio-java asks for an `Authorization` header on every request: the
 * [provider]'s current token as `Bearer …`.
 *
 * A cache hit answers without I/O; a miss (the first call, or a token about to expire) blocks
 * the calling thread on one fetch that every concurrent caller shares, so a process makes one
 * token request per token lifetime. A refused or failed token request is thrown as the
 * provider's [TwilioOAuthException] (an unchecked exception in Java) from the twilio-java call
 * that needed it.
 *
 * Its type is [EnumConstants.AuthType.TOKEN], as twilio-java's own `TokenAuthStrategy`.
 */
class TwilioAuthStrategy(
    /** Where the tokens come from. */
    val provider: TokenProvider,
) : AuthStrategy(EnumConstants.AuthType.TOKEN) {
    /** `Bearer <access token>` (secret): from the provider's cache when possible. */
    override fun getAuthString(): String = provider.tokenBlocking().use { it.authorizationHeader() }

    /** Always: every API request carries the token. */
    override fun requiresAuthentication(): Boolean = true

    /** Names the provider, never a token. */
    override fun toString(): String = "TwilioAuthStrategy(provider=$provider)"
}

/**
 * A credential provider for twilio-java backed by a [TokenProvider]: pass it to
 * `Twilio.init(credentialProvider, accountSid)` or use [toAuthStrategy] with
 * `TwilioRestClient.Builder(…)`.
 *
 * ```kotlin
 * val provider = OAuthClient.fromEnv().tokenProvider()
 * Twilio.init(TwilioCredentialProvider(provider), "AC…")
 * val account = Account.fetcher("AC…").fetch()
 * ```
 *
 * Every request twilio-java makes shares the provider's cached token (and, with a shared
 * store, the fleet's). The provider stays the caller's: close it when done.
 */
class TwilioCredentialProvider(
    /** Where the tokens come from. */
    val provider: TokenProvider,
) : CredentialProvider(EnumConstants.AuthType.CLIENT_CREDENTIALS) {
    /** The [client]'s default provider (its app token: client credentials). */
    constructor(client: OAuthClient) : this(client.tokenProvider())

    private val strategy = TwilioAuthStrategy(provider)

    /** The one [TwilioAuthStrategy] of this provider: twilio-java asks once per rest client. */
    override fun toAuthStrategy(): TwilioAuthStrategy = strategy

    /** Names the provider, never a token. */
    override fun toString(): String = "TwilioCredentialProvider(provider=$provider)"
}

/**
 * A credential provider for twilio-java serving this provider's token, as Node's
 * `provider.toTwilioCredentialProvider()`. From Java: `TwilioJava.toTwilioCredentialProvider(provider)`.
 */
fun TokenProvider.toTwilioCredentialProvider(): TwilioCredentialProvider = TwilioCredentialProvider(this)
