package twiliooauth

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.time.Duration

@DisplayName("TokenProvider")
class ProviderTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    @Test
    fun `sixty-four coroutines share one token request`() = runBlocking {
        // Slow answers keep every coroutine waiting on the one fetch in flight.
        MockServer.configure("""{"latency_ms": 300}""")
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider()
            val tokens = (1..64).map {
                async(Dispatchers.Default) { provider.token().accessToken() }
            }.awaitAll()
            assertEquals(1, tokens.toSet().size)
            assertEquals(1, MockServer.requests("/v2/token"))
            assertEquals(1uL, provider.stats().fetches)
            assertEquals(0uL, provider.stats().failures)
        }
    }

    @Test
    fun `cached answers without I-O, before and after the first fetch`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider()
            assertNull(provider.cached())
            assertEquals(0, MockServer.requests("/v2/token"))
            val token = provider.token()
            assertEquals(token.accessToken(), provider.cached()?.accessToken())
            @Suppress("DEPRECATION")
            assertEquals(token.accessToken(), provider.cached()?.accessToken(), "the former name still works")
            assertEquals(1, MockServer.requests("/v2/token"))
        }
    }

    @Test
    fun `invalidate drops the cached token so that the next call fetches a new one`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider()
            val first = provider.accessToken()
            assertEquals(first, provider.accessToken())
            assertEquals(1, MockServer.requests("/v2/token"))
            provider.invalidate()
            assertNull(provider.cached())
            val second = provider.accessToken()
            assertNotEquals(first, second)
            assertEquals(2, MockServer.requests("/v2/token"))
            val stats = provider.stats()
            assertEquals(2uL, stats.fetches)
            assertTrue(stats.hits >= 1uL, "$stats")
        }
    }

    @Test
    fun `tokenAfterUnauthorized replaces the rejected token only once`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider()
            val rejected = provider.accessToken()
            val fresh = provider.tokenAfterUnauthorized(rejected)
            assertNotEquals(rejected, fresh.accessToken())
            // A caller still holding the old token gets the replacement, not a third fetch.
            assertEquals(fresh.accessToken(), provider.tokenAfterUnauthorized(rejected).accessToken())
            assertEquals(2, MockServer.requests("/v2/token"))
        }
    }

    @Test
    fun `tokenBlocking serves callers outside coroutines`() {
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider(scope = "b a")
            val token = provider.tokenBlocking()
            assertEquals(token.accessToken(), provider.tokenBlocking().accessToken())
            assertEquals(1, MockServer.requests("/v2/token"))
            // Scopes are normalised: "b a" and "a b" share one cache entry.
            client.tokenProvider(scope = "a b").use { same -> assertEquals(provider.key(), same.key()) }
            client.tokenProvider(scope = "a").use { other -> assertNotEquals(provider.key(), other.key()) }
            assertEquals("Bearer ${token.accessToken()}", runBlocking { provider.authorizationHeader() })
        }
    }

    @Test
    fun `an initial token from elsewhere is served while fresh`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val initial = Token("handed-over-access-token", expiresIn = Duration.ofMinutes(10))
            val provider = client.tokenProvider(initialToken = initial)
            assertEquals("handed-over-access-token", provider.accessToken())
            assertNotNull(provider.cached())
            assertEquals(0, MockServer.requests("/v2/token"))
        }
    }

    @Test
    fun `refreshAhead and expiryMargin are durations, checked by the core like every duration`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            // (Their effect on refreshing is the scenarios' business: users.json's refresh_ahead.)
            client.tokenProvider(expiryMargin = Duration.ofSeconds(20), refreshAhead = Duration.ofMinutes(2)).use { provider ->
                assertEquals(provider.token().accessToken(), provider.token().accessToken())
                assertEquals(1, MockServer.requests("/v2/token"))
            }
            val e = assertThrows<TwilioOAuthException.Config> { client.tokenProvider(refreshAhead = Duration.ofDays(400)) }
            assertTrue(e.description.contains("refresh_ahead must be a number of seconds from 0 to"), e.description)
            val old = assertThrows<TwilioOAuthException.Config> { client.tokenProvider(expiryMarginSeconds = Double.NaN) }
            assertTrue(old.description.contains("expiry_margin must be a number of seconds from 0 to"), old.description)
            assertThrows<TwilioOAuthException.Config> {
                client.tokenProvider(refreshAhead = Duration.ofSeconds(1), refreshAheadSeconds = 1.0)
            }
        }
    }

    @Test
    fun `a failing fetch is a typed error and is counted`() = runBlocking {
        MockServer.fault("/v2/token", """[{"status": 401, "body": {"code": 20003, "message": "Authenticate", "status": 401}}]""")
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider()
            val e = runCatching { provider.token() }.exceptionOrNull()
            assertTrue(e is TwilioOAuthException.Api, "$e")
            assertEquals(1uL, provider.stats().failures)
            assertTrue(provider.token().accessToken().isNotEmpty(), "the next call fetches again")
        }
    }
}
