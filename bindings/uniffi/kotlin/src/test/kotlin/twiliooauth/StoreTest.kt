package twiliooauth

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger

/** What an app would write over the Android Keystore or the iOS Keychain: JSON under a key. */
class JsonMapStore : TokenStore {
    val saved = ConcurrentHashMap<String, String>()
    val loads = AtomicInteger()

    override suspend fun load(key: String): Token? {
        loads.incrementAndGet()
        return saved[key]?.let { Token.fromJson(it) }
    }

    override suspend fun save(key: String, token: Token) {
        saved[key] = token.toJson()
    }

    override suspend fun delete(key: String) {
        saved.remove(key)
    }
}

/** A store whose every call throws, as a locked Keychain might. */
class BrokenStore(private val failure: () -> Exception) : TokenStore {
    val calls = AtomicInteger()

    override suspend fun load(key: String): Token? {
        calls.incrementAndGet()
        throw failure()
    }

    override suspend fun save(key: String, token: Token) {
        calls.incrementAndGet()
        throw failure()
    }

    override suspend fun delete(key: String) {
        calls.incrementAndGet()
        throw failure()
    }
}

@DisplayName("TokenStore")
class StoreTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    @Test
    fun `a Kotlin store keeps the token so that a second provider needs no request`() = runBlocking {
        val store = JsonMapStore()
        OAuthClient(MockServer.config()).use { client ->
            val first = client.tokenProvider(store = store).accessToken()
            assertEquals(1, store.saved.size)
            val provider = client.tokenProvider(store = store)
            assertEquals(provider.key(), store.saved.keys.single())
            assertEquals(Grant.APP, provider.grant())

            val second = client.tokenProvider(store = store)
            assertEquals(first, second.accessToken())
            assertEquals(1uL, second.stats().storeHits)
            assertEquals(0uL, second.stats().fetches)
            assertTrue(store.loads.get() >= 2)
            assertEquals(1, MockServer.requests("/v2/token"))
        }
    }

    @Test
    fun `a store that throws a RuntimeException never breaks token acquisition`() = runBlocking {
        val store = BrokenStore { IllegalStateException("keychain is locked") }
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider(store = store)
            assertTrue(provider.accessToken().isNotEmpty())
            assertTrue(store.calls.get() >= 1, "the store was asked")
            assertEquals(1, MockServer.requests("/v2/token"))
            assertEquals(store.calls.get().toULong(), provider.stats().storeErrors, "each failure is counted")
        }
    }

    @Test
    fun `a store that throws a typed Store error never breaks token acquisition`() = runBlocking {
        val store = BrokenStore { TwilioOAuthException.Store("keystore unavailable") }
        OAuthClient(MockServer.config()).use { client ->
            val provider = client.tokenProvider(store = store)
            assertTrue(provider.accessToken().isNotEmpty())
            assertTrue(store.calls.get() >= 1, "the store was asked")
        }
    }

    @Test
    fun `the built-in file store keeps the token between providers`(@TempDir dir: Path) = runBlocking {
        val path = dir.resolve("tokens.json").toString()
        OAuthClient(MockServer.config()).use { client ->
            val first = client.tokenProvider(store = fileTokenStore(path)).accessToken()
            val second = client.tokenProvider(store = fileTokenStore(path)).accessToken()
            assertEquals(first, second)
            assertEquals(1, MockServer.requests("/v2/token"))
        }
    }

    @Test
    fun `the built-in stores can be called from Kotlin directly`() = runBlocking {
        val store = memoryTokenStore()
        store.save("k", Token("opaque-access", expiresIn = Duration.ofSeconds(60)))
        assertEquals("opaque-access", store.load("k")?.accessToken())
        store.delete("k")
        assertEquals(null, store.load("k"))
    }

    @Test
    fun `a stored string that is not a token is a Store error`() {
        assertThrows<TwilioOAuthException.Store> { Token.fromJson("not json") }
    }
}
