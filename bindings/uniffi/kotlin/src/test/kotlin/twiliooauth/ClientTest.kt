package twiliooauth

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.fail
import java.net.URI
import java.net.URLDecoder
import java.time.Duration
import java.time.Instant

@DisplayName("OAuthClient")
class ClientTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    @Test
    fun `client credentials return a bearer token that the API accepts`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val token = client.clientCredentials()
            assertEquals("Bearer", token.tokenType())
            assertTrue(token.accessToken().isNotEmpty())
            assertFalse(token.isExpired())
            assertTrue(token.expiresIn().seconds in 3000..3600, "expiresIn = ${token.expiresIn()}")
            assertTrue(token.expiresAt().isAfter(Instant.now()))
            assertTrue(token.claims().isNotEmpty(), "a JWT access token has claims")
            // The app's own token: the JWT's subject is the app, issued just now.
            assertEquals(token.claims()["sub"], token.subject())
            assertTrue(token.subject()!!.startsWith("OQ"), "${token.subject()}")
            val issued = Duration.between(token.issuedAt(), Instant.now())
            assertTrue(issued.seconds in -5..60, "issued $issued ago")
            val account = MockServer.get(
                "/2010-04-01/Accounts/${MockServer.ACCOUNT_SID}.json",
                mapOf("Authorization" to token.authorizationHeader()),
            )
            assertEquals(200, account.statusCode(), account.body())
        }
    }

    @Test
    fun `a scope asked for is carried by the token`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            assertEquals("openid profile", client.clientCredentials(scope = "openid profile").scope())
            assertEquals("profile", client.clientCredentials(scope = "profile").scope())
            assertNull(client.clientCredentials().scope(), "no scope asked, none granted")
        }
    }

    @Test
    fun `fromEnv reads the TWILIO variables`() {
        OAuthClient.fromEnv().use { client ->
            assertEquals(MockServer.CLIENT_ID, client.clientId())
            assertTrue(client.hasClientSecret())
            assertEquals("https://oauth.twilio.com/", client.baseUrl())
        }
    }

    @Test
    fun `fromEnv takes options that win over the environment, and they work`() = runBlocking {
        OAuthClient.fromEnv(baseUrl = MockServer.url, timeout = Duration.ofSeconds(5), maxRetries = 0u).use { client ->
            assertEquals(MockServer.CLIENT_ID, client.clientId())
            assertTrue(client.clientCredentials().accessToken().isNotEmpty(), "the environment's secret is used")
        }
        assertEquals(1, MockServer.requests("/v2/token"))
    }

    @Test
    fun `a config with fromEnv fills what it leaves unset from the environment, and only then`() = runBlocking {
        val bare = OAuthConfig(clientId = MockServer.CLIENT_ID, baseUrl = MockServer.url, maxRetries = 0u)
        OAuthClient(bare).use { client -> assertFalse(client.hasClientSecret(), "no fromEnv: nothing read") }
        OAuthClient(bare.copy(fromEnv = true)).use { client ->
            assertTrue(client.hasClientSecret())
            assertEquals(MockServer.url + "/", client.baseUrl(), "what the config gives wins")
            assertTrue(client.clientCredentials().accessToken().isNotEmpty())
        }
    }

    @Test
    fun `the authorization url carries PKCE and the code it yields is exchanged for a token`() = runBlocking {
        val config = MockServer.config(clientId = MockServer.PUBLIC_CLIENT_ID, clientSecret = null)
        OAuthClient(config).use { client ->
            val redirect = "http://127.0.0.1:9/callback"
            val request = client.authorizationUrl(redirect, scope = "openid offline_access", state = "state-1234")
            val query = query(request.url())
            assertEquals("S256", query["code_challenge_method"])
            assertEquals("state-1234", request.state())
            assertTrue(request.codeVerifier().length >= 43)

            val answer = MockServer.get(request.url().removePrefix(MockServer.url))
            assertEquals(302, answer.statusCode())
            val back = query(answer.headers().firstValue("Location").orElseThrow())
            assertEquals("state-1234", back["state"])
            val token = client.exchangeCode(back.getValue("code"), redirectUri = redirect, codeVerifier = request.codeVerifier())
            assertNotNull(token.idToken(), "openid asks for an id token")
            val refreshToken = token.refreshToken() ?: fail("offline_access gives a refresh token")
            val renewed = client.refresh(refreshToken)
            assertTrue(renewed.accessToken() != token.accessToken())
        }
    }

    @Test
    fun `the raw v1 and v2 token calls work`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val v2 = client.createOauth2Token("client_credentials")
            assertEquals("Bearer", v2.tokenType())
            val v1 = client.createToken("client_credentials")
            assertTrue(v1.accessToken().isNotEmpty())
            assertEquals(1, MockServer.requests("/v1/token"))
            assertEquals(1, MockServer.requests("/v2/token"))
        }
    }

    @Test
    fun `a token made by hand round-trips through JSON`() {
        Token("opaque-access", expiresIn = Duration.ofMinutes(2), refreshToken = "opaque-refresh").use { token ->
            assertTrue(token.expiresIn() > Duration.ofSeconds(110), "${token.expiresIn()}")
            Token.fromJson(token.toJson()).use { back ->
                assertEquals("opaque-access", back.accessToken())
                assertEquals("opaque-refresh", back.refreshToken())
                assertNull(back.idToken())
                assertTrue(back.claims().isEmpty())
                assertEquals("{}", back.claimsJson())
            }
        }
    }

    @Test
    fun `the former seconds form of the token constructor still works, checked by the core`() {
        Token("opaque-access", 120.0, refreshToken = "opaque-refresh").use { token ->
            assertEquals(Duration.ofSeconds(120), token.lifetime())
        }
        val empty = assertThrows<TwilioOAuthException.Config> { Token(" ", expiresIn = Duration.ofSeconds(1)) }
        assertTrue(empty.description.contains("access token must not be empty"), empty.description)
        val negative = assertThrows<TwilioOAuthException.Config> { Token("opaque-access", -1.0) }
        assertTrue(negative.description.contains("expires_in must be a number of seconds"), negative.description)
    }

    @Test
    fun `a client with no secret cannot ask for client credentials`() = runBlocking {
        val config = MockServer.config(clientId = MockServer.PUBLIC_CLIENT_ID, clientSecret = null)
        OAuthClient(config).use { client ->
            val e = assertThrows<TwilioOAuthException.Config> { runBlocking { client.clientCredentials() } }
            assertTrue(e.description.contains("client_secret"))
        }
    }

    private fun query(url: String): Map<String, String> = (URI(url).rawQuery ?: "").split('&').filter { it.isNotEmpty() }.associate {
        val (k, v) = it.split('=', limit = 2) + ""
        URLDecoder.decode(k, Charsets.UTF_8) to URLDecoder.decode(v, Charsets.UTF_8)
    }
}
