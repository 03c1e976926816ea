package twiliooauth

import com.twilio.credential.ClientCredentialProvider
import com.twilio.http.NetworkHttpClient
import com.twilio.http.Request
import com.twilio.http.Response
import com.twilio.http.TwilioRestClient
import com.twilio.http.bearertoken.TokenManager
import com.twilio.http.noauth.NoAuthNetworkHttpClient
import com.twilio.http.noauth.NoAuthRequest
import com.twilio.http.noauth.NoAuthTwilioRestClient
import com.twilio.rest.api.v2010.Account
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import java.util.Collections

/**
 * twilio-java's URL for [url], on the local server instead: its api.twilio.com stand-in at the
 * same paths, and for iam.twilio.com's `/v1/token` (what twilio-java's own
 * `ClientCredentialProvider` calls) the server's `/v2/token`, which takes the same form
 * (`grant_type`, `client_id`, `client_secret`) and answers the same JSON.
 */
private fun local(url: String): String = when {
    url.startsWith("https://api.twilio.com/") -> MockServer.url + url.removePrefix("https://api.twilio.com")
    url == "https://iam.twilio.com/v1/token" -> MockServer.url + "/v2/token"
    else -> error("no local stand-in for $url")
}

/** twilio-java's own HTTP client, sending to the local server; records the paths it sent. */
private class LocalHttpClient : NetworkHttpClient() {
    val sent: MutableList<String> = Collections.synchronizedList(mutableListOf())

    override fun makeRequest(request: Request): Response {
        val copy = Request(request.method, local(request.url))
        request.queryParams.forEach { (k, vs) -> vs.forEach { copy.addQueryParam(k, it) } }
        request.postParams.forEach { (k, vs) -> vs.forEach { copy.addPostParam(k, it) } }
        request.headerParams.forEach { (k, vs) -> vs.forEach { copy.addHeaderParam(k, it) } }
        copy.contentType = request.contentType
        request.body?.let { copy.body = it }
        request.authStrategy?.let { copy.setAuth(it) }
        return super.makeRequest(copy).also { sent += copy.constructURL().path }
    }
}

/** The same for twilio-java's unauthenticated client (its token requests). */
private class LocalNoAuthHttpClient : NoAuthNetworkHttpClient() {
    override fun makeRequest(request: NoAuthRequest): Response {
        val copy = NoAuthRequest(request.method, local(request.url))
        request.postParams.forEach { (k, vs) -> vs.forEach { copy.addPostParam(k, it) } }
        request.headerParams.forEach { (k, vs) -> vs.forEach { copy.addHeaderParam(k, it) } }
        copy.contentType = request.contentType
        return super.makeRequest(copy)
    }
}

/**
 * What twilio-java's `ApiTokenManager` does (an iam `Token.creator(…).create()`), through a
 * client pointed at the local server: `ApiTokenManager` itself always uses the process-wide
 * `TwilioNoAuth` client, which has no setter. The caching under test is twilio-java's
 * `TokenAuthStrategy`, untouched.
 */
private class LocalTokenManager : TokenManager {
    private val client = NoAuthTwilioRestClient.Builder().httpClient(LocalNoAuthHttpClient()).build()

    override fun fetchAccessToken(): String = com.twilio.rest.iam.v1.Token.creator("client_credentials", MockServer.CLIENT_ID)
        .setClientSecret(MockServer.CLIENT_SECRET)
        .create(client)
        .accessToken
}

@DisplayName("twilio-java credential provider")
class TwilioJavaTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    private fun twilio(credentials: com.twilio.credential.CredentialProvider, http: LocalHttpClient) =
        TwilioRestClient.Builder(credentials.toAuthStrategy())
            .accountSid(MockServer.ACCOUNT_SID)
            .httpClient(http)
            .build()

    /** Five account fetches through twilio-java; the token requests they cost. */
    private fun fiveCalls(credentials: com.twilio.credential.CredentialProvider): Int {
        val http = LocalHttpClient()
        val twilio = twilio(credentials, http)
        repeat(5) {
            val account = Account.fetcher(MockServer.ACCOUNT_SID).fetch(twilio)
            assertEquals(MockServer.ACCOUNT_SID, account.sid)
            assertEquals("Twilio OAuth mock account", account.friendlyName)
        }
        assertEquals(List(5) { "/2010-04-01/Accounts/${MockServer.ACCOUNT_SID}.json" }, http.sent)
        return MockServer.requests("/v2/token")
    }

    @Test
    fun `twilio-java sends our cached bearer token - 5 API calls, 1 token request`() {
        OAuthClient(MockServer.config()).use { client ->
            client.tokenProvider().use { provider ->
                val requests = fiveCalls(TwilioCredentialProvider(provider))
                println("twilio-java 10.9.2, 5 API calls: twilio-oauth TwilioCredentialProvider made $requests token request(s)")
                assertEquals(1, requests)
                val stats = provider.stats()
                assertEquals(1uL, stats.fetches)
                assertTrue(stats.hits >= 4uL, "$stats")
            }
        }
    }

    @Test
    fun `twilio-java's own ClientCredentialProvider, for comparison`() {
        val requests = fiveCalls(ClientCredentialProvider(MockServer.CLIENT_ID, MockServer.CLIENT_SECRET, LocalTokenManager()))
        println("twilio-java 10.9.2, 5 API calls: its own ClientCredentialProvider made $requests token request(s)")
        assertTrue(requests >= 1, "the comparison must reach the server's token endpoint")
    }

    @Test
    fun `the strategy hands out the provider's header and hides it from toString`() {
        OAuthClient(MockServer.config()).use { client ->
            val credentials = TwilioCredentialProvider(client)
            val strategy = credentials.toAuthStrategy()
            assertTrue(strategy === credentials.toAuthStrategy())
            assertTrue(strategy.requiresAuthentication())
            assertEquals(com.twilio.constant.EnumConstants.AuthType.TOKEN, strategy.authType)
            assertEquals(com.twilio.constant.EnumConstants.AuthType.CLIENT_CREDENTIALS, credentials.authType)
            val header = strategy.getAuthString()
            assertTrue(header.startsWith("Bearer ey"))
            assertEquals(
                200,
                MockServer.get("/2010-04-01/Accounts/${MockServer.ACCOUNT_SID}.json", mapOf("Authorization" to header)).statusCode(),
            )
            val token = header.removePrefix("Bearer ")
            assertFalse(strategy.toString().contains(token), strategy.toString())
            assertFalse(credentials.toString().contains(token), credentials.toString())
            assertTrue(credentials.provider.toTwilioCredentialProvider().provider === credentials.provider)
            credentials.provider.close()
        }
    }

    @Test
    fun `a refused token request reaches the twilio-java caller as a typed error`() {
        OAuthClient(MockServer.config(clientSecret = "not-the-secret")).use { client ->
            client.tokenProvider().use { provider ->
                val http = LocalHttpClient()
                val twilio = twilio(provider.toTwilioCredentialProvider(), http)
                val e = assertThrows(TwilioOAuthException::class.java) {
                    Account.fetcher(MockServer.ACCOUNT_SID).fetch(twilio)
                }
                assertInstanceOf(TwilioOAuthException.Api::class.java, e)
                assertEquals(401, (e as TwilioOAuthException.Api).status)
                assertTrue(http.sent.isEmpty(), "no API request without a token")
            }
        }
    }
}
