package twiliooauth

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.time.Duration

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
        assertEquals(401, e.status)
        assertEquals(321401L, e.code)
        assertEquals("Invalid client credentials", e.serverMessage)
        // `message` is the human text, as in every language: the core's text, the same as
        // toString() and the field `description`.
        assertEquals(
            "HTTP 401, code 321401: Invalid client credentials (see https://www.twilio.com/docs/errors/321401)",
            e.message,
        )
        assertEquals(e.message, e.toString())
        assertEquals(e.message, e.description)
        assertNull(e.retryAfter)
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
        assertEquals("scope is not allowed", first.serverMessage)
        assertNull(first.code)
        val second = assertThrows<TwilioOAuthException.Api> { call { it.clientCredentials() } }
        assertEquals(20003L, second.code)
        assertEquals("https://www.twilio.com/docs/errors/20003", second.moreInfo)
    }

    @Test
    fun `a 429 after the last retry is RateLimited with retryAfter`() {
        MockServer.fault("/v2/token", """[{"status": 429, "headers": {"Retry-After": "7"}}]""")
        val e = assertThrows<TwilioOAuthException.RateLimited> { call { it.clientCredentials() } }
        assertEquals(429, e.status)
        assertEquals(Duration.ofSeconds(7), e.retryAfter)
        assertTrue(e.message!!.startsWith("rate limited: HTTP 429"), e.message)
        @Suppress("DEPRECATION")
        assertEquals(7.0, e.retryAfterSeconds, "the former field still reads")
    }

    @Test
    fun `an Api error carries the Retry-After the server sent`() {
        MockServer.fault(
            "/v2/token",
            """[{"status": 503, "headers": {"Retry-After": "3"}, "body": {"code": 20503, "message": "Service unavailable", "status": 503}}]""",
        )
        val e = assertThrows<TwilioOAuthException.Api> { call { it.clientCredentials() } }
        assertEquals(503, e.status)
        assertEquals(Duration.ofSeconds(3), e.retryAfter)
        assertEquals("Service unavailable", e.serverMessage)
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
        assertEquals(200, e.status)
        assertTrue(e.excerpt.contains("maintenance"), e.excerpt)
        assertTrue(e.message!!.startsWith("invalid response (HTTP 200)"), e.message)
    }

    @Test
    fun `a malformed client id is a Config error`() {
        val e = assertThrows<TwilioOAuthException.Config> {
            OAuthClient(OAuthConfig(clientId = "OQ123"))
        }
        assertTrue(e.description.contains("34"), e.description)
        assertTrue(e.message!!.startsWith("configuration error: "), e.message)
    }

    @Test
    fun `plain http to a non-loopback host is a Config error`() {
        assertThrows<TwilioOAuthException.Config> {
            OAuthClient(OAuthConfig(clientId = MockServer.CLIENT_ID, baseUrl = "http://oauth.example.com"))
        }
    }

    @Test
    fun `a timeout out of range is a Config error with the core's one message, not a crash`() {
        val tooLong = assertThrows<TwilioOAuthException.Config> {
            OAuthClient(MockServer.config(timeout = Duration.ofDays(400)))
        }
        assertTrue(tooLong.description.contains("timeout must be a number of seconds from 0 to"), tooLong.description)
        // The deprecated seconds field goes through the same check.
        val negative = assertThrows<TwilioOAuthException.Config> {
            OAuthClient(MockServer.config(timeout = null).copy(timeoutSeconds = -1.0))
        }
        assertTrue(negative.description.contains("timeout must be a number of seconds from 0 to"), negative.description)
        val both = assertThrows<TwilioOAuthException.Config> {
            OAuthClient(MockServer.config().copy(timeoutSeconds = 5.0))
        }
        assertTrue(both.description.contains("not both"), both.description)
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
            call(MockServer.config(timeout = Duration.ofMillis(300))) { it.clientCredentials() }
        }
    }

    @Test
    fun `a panic inside the core is an Internal error, not a crash`() {
        val e = assertThrows<TwilioOAuthException.Internal> { runBlocking { panicForTest() } }
        assertTrue(e.description.contains("panic"), e.description)
        // The root of the tree, so that `catch (e: TwilioOAuthException)` handles it too.
        val root: TwilioOAuthException = e
        assertTrue(root.toString().startsWith("internal error: "), root.toString())
        assertEquals(root.toString(), root.message)
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
    fun `the kinds form a sealed tree that a when covers without an else, each with its text as message`() {
        val kinds = listOf<TwilioOAuthException>(
            TwilioOAuthException.Config("configuration error: m"),
            TwilioOAuthException.Api("HTTP 400: m", 400, 20001, "e", "m", null, null),
            TwilioOAuthException.RateLimited("rate limited: HTTP 429: m", 429, null, null, "m", null, Duration.ofSeconds(1)),
            TwilioOAuthException.LoginRequired("sign in again: HTTP 400: m", 400, 322403, "invalid_grant", "m", null, null),
            TwilioOAuthException.AccessDenied("access denied: m"),
            TwilioOAuthException.ExpiredToken("device code expired: m"),
            TwilioOAuthException.Transport("transport error: m"),
            TwilioOAuthException.Timeout("timed out: m"),
            TwilioOAuthException.InvalidResponse("invalid response: m", 200, "x"),
            TwilioOAuthException.Cancelled(),
            TwilioOAuthException.Store("token store error: m"),
            TwilioOAuthException.Internal("internal error: m"),
        )
        val names = kinds.map(::errorKind)
        assertEquals(12, names.toSet().size)
        for (e in kinds) {
            assertTrue(e is Exception)
            // The Rust text of a Kotlin-made error is its `description`; `Cancelled` has none.
            val text = if (e is TwilioOAuthException.Cancelled) "cancelled" else e.message
            assertEquals(text, e.toString())
            assertEquals(text, e.message)
        }
    }
}
