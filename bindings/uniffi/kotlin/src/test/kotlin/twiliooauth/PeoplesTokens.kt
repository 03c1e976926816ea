// The Kotlin example of "People's tokens" in bindings/uniffi/README.md: UsersTest checks that
// the README shows exactly the code between the markers, and runs it against the mock server.
@file:Suppress("ktlint:standard:filename") // named after the README section it shows

package twiliooauth

// peoples-tokens:begin
import twiliooauth.OAuthClient
import twiliooauth.Token
import twiliooauth.TokenStore
import twiliooauth.TwilioOAuthException

/** A signed-in person's Authorization header, renewed for as long as their login lasts. */
class SignedInUser(
    client: OAuthClient,
    account: String, // "alice@example.com": keeps people apart in one store
    store: TokenStore, // fileTokenStore(path) on a desktop, your Keychain/Keystore store on a phone
    login: Token? = null, // the token of a fresh sign-in; null on later runs
) : AutoCloseable {
    private val provider = client.tokenProvider(store = store, initialToken = login, account = account)

    /** `"Bearer …"` for the person, or null when they must sign in again. */
    suspend fun authorization(): String? = try {
        provider.authorizationHeader()
    } catch (e: TwilioOAuthException.LoginRequired) {
        null // refused, reused or revoked refresh token, session over, or no login stored
    }

    override fun close() = provider.close()
}
// peoples-tokens:end
