package twiliooauth

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

@DisplayName("TwilioOAuthException")
class ErrorsTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    private fun <T> call(config: OAuthConfig = MockServer.config(), block: suspend (OAuthClient) -> T): T =
        OAuthClient(config).use { client -> runBlocking { block(client) } }

    @Test
    fun `a wrong secret is an Api error carrying the status, code and message`() {
        val e = assertThrows<TwilioOAuthException.Api> {
            call(MockServer.config(clientSecret = "not-the-secret")) { it.clientCredentials() }
        }
        assertEquals(401.toUShort(), e.status)
        assertEquals(321401L, e.code)
        assertEquals("Invalid client credentials", e.description)
        assertTrue(e.toString().contains("HTTP 401"), e.toString())
    }

    @Test
    fun `an RFC 6749 error body fills the error field and moreInfo comes from Twilio bodies`() {
        MockServer.fault(
            "/v2/token",
            """[{"status": 400, "body": {"error": "invalid_scope", "error_description": "scope is not allowed"}},
                {"status": 403, "body": {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 403}}]""",
        )
        val first = assertThrows<TwilioOAuthException.Api> { call { it.clientCredentials() } }
        assertEquals("invalid_scope", first.error)
        assertEquals("scope is not allowed", first.description)
        assertNull(first.code)
        val second = assertThrows<TwilioOAuthException.Api> { call { it.clientCredentials() } }
        assertEquals(20003L, second.code)
        assertEquals("https://www.twilio.com/docs/errors/20003", second.moreInfo)
    }

    @Test
    fun `a 429 after the last retry is RateLimited with retryAfterSeconds`() {
        MockServer.fault("/v2/token", """[{"status": 429, "headers": {"Retry-After": "7"}}]""")
        val e = assertThrows<TwilioOAuthException.RateLimited> { call { it.clientCredentials() } }
        assertEquals(429.toUShort(), e.status)
        assertEquals(7.0, e.retryAfterSeconds)
    }

    @Test
    fun `retries ride out a 503 before giving a token`() {
        MockServer.fault("/v2/token", """[{"status": 503, "headers": {"Retry-After": "0"}}]""")
        val token = call(MockServer.config(maxRetries = 2u)) { it.clientCredentials() }
        assertTrue(token.accessToken().isNotEmpty())
        assertEquals(2, MockServer.requests("/v2/token"))
    }

    @Test
    fun `a 2xx answer without a token is InvalidResponse with the status and an excerpt`() {
        MockServer.fault("/v2/token", """[{"status": 200, "body": "<html>maintenance</html>"}]""")
        val e = assertThrows<TwilioOAuthException.InvalidResponse> { call { it.clientCredentials() } }
        assertEquals(200.toUShort(), e.status)
        assertTrue(e.excerpt.contains("maintenance"), e.excerpt)
    }

    @Test
    fun `a malformed client id is a Config error`() {
        val e = assertThrows<TwilioOAuthException.Config> {
            OAuthClient(OAuthConfig(clientId = "OQ123"))
        }
        assertTrue(e.description.contains("34"), e.description)
    }

    @Test
    fun `plain http to a non-loopback host is a Config error`() {
        assertThrows<TwilioOAuthException.Config> {
            OAuthClient(OAuthConfig(clientId = MockServer.CLIENT_ID, baseUrl = "http://oauth.example.com"))
        }
    }

    @Test
    fun `a negative timeout is a Config error, not a crash`() {
        assertThrows<TwilioOAuthException.Config> {
            OAuthClient(MockServer.config(timeoutSeconds = -1.0))
        }
    }

    @Test
    fun `a server that is not there is a Transport error`() {
        val config = OAuthConfig(
            clientId = MockServer.CLIENT_ID,
            clientSecret = MockServer.CLIENT_SECRET,
            baseUrl = "http://127.0.0.1:1",
            maxRetries = 0u,
        )
        assertThrows<TwilioOAuthException.Transport> { call(config) { it.clientCredentials() } }
    }

    @Test
    fun `a server slower than the timeout is a Timeout error`() {
        MockServer.fault("/v2/token", """[{"status": 200, "delay_ms": 3000, "passthrough": true}]""")
        assertThrows<TwilioOAuthException.Timeout> {
            call(MockServer.config(timeoutSeconds = 0.3)) { it.clientCredentials() }
        }
    }

    @Test
    fun `a panic inside the core is an Internal error, not a crash`() {
        val e = assertThrows<TwilioOAuthException.Internal> { runBlocking { panicForTest() } }
        assertTrue(e.description.contains("panic"), e.description)
        // The root of the tree, so that `catch (e: TwilioOAuthException)` handles it too.
        val root: TwilioOAuthException = e
        assertTrue(root.toString().startsWith("internal error: "), root.toString())
    }

    @Test
    fun `calls after a panic still work, on the coroutine and the blocking paths`() {
        // More panics than the shared runtime has worker threads: none of them may be lost.
        repeat(4) {
            assertThrows<TwilioOAuthException.Internal> { runBlocking { panicForTest() } }
        }
        OAuthClient(MockServer.config()).use { client ->
            val token = runBlocking { client.clientCredentials() }
            assertTrue(token.accessToken().isNotEmpty())
            client.tokenProvider().use { provider ->
                assertTrue(provider.tokenBlocking().accessToken().isNotEmpty())
            }
        }
        assertThrows<TwilioOAuthException.Internal> { runBlocking { panicForTest() } }
        assertEquals(2, MockServer.requests("/v2/token"))
    }

    @Test
    fun `the kinds form a sealed tree that a when covers without an else`() {
        val kinds = listOf<TwilioOAuthException>(
            TwilioOAuthException.Config("m"),
            TwilioOAuthException.Api(400u, 20001, "e", "m", null),
            TwilioOAuthException.RateLimited(429u, null, null, "m", null, 1.0),
            TwilioOAuthException.LoginRequired(400u, 322403, "invalid_grant", "m", null),
            TwilioOAuthException.AccessDenied("m"),
            TwilioOAuthException.ExpiredToken("m"),
            TwilioOAuthException.Transport("m"),
            TwilioOAuthException.Timeout("m"),
            TwilioOAuthException.InvalidResponse(200u, "m", "x"),
            TwilioOAuthException.Cancelled(),
            TwilioOAuthException.Store("m"),
            TwilioOAuthException.Internal("m"),
        )
        val names = kinds.map(::errorKind)
        assertEquals(12, names.toSet().size)
        kinds.forEach { assertTrue(it is Exception) }
    }
}
