package twiliooauth

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Duration

/** The error `block` throws, which must be a `T`. */
private suspend inline fun <reified T : Throwable> failsWith(block: suspend () -> Unit): T {
    val thrown = try {
        block()
        null
    } catch (e: Throwable) {
        e
    }
    assertTrue(thrown is T, "expected ${T::class.simpleName}, got $thrown")
    return thrown as T
}

/** Waits (polling, at most 5 s) until `condition` holds: for work the test cannot join. */
private suspend fun eventually(what: String, condition: () -> Boolean) {
    withTimeout(5_000) {
        while (!condition()) delay(10)
    }
    assertTrue(condition(), what)
}

private fun stat(name: String): Int = MockServer.stats().getInt(name)

/**
 * A person's tokens through the Kotlin API: rotation of refresh tokens, `LoginRequired` instead
 * of an app token, people kept apart in a shared file store, stores shared by providers, and
 * fetches that outlive a cancelled caller.
 */
@DisplayName("People's tokens")
class UsersTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    @Test
    fun `the README shows exactly the people's tokens example that these tests run`() {
        val source = MockServer.readProperty("twilio.oauth.peoplestokens")
        val snippet = source.substringAfter("// peoples-tokens:begin\n").substringBefore("// peoples-tokens:end")
        assertTrue(snippet.contains("class SignedInUser"))
        val readme = MockServer.readProperty("twilio.oauth.readme")
        assertTrue(readme.contains("```kotlin\n$snippet```"), "README.md's people's tokens example differs from PeoplesTokens.kt")
    }

    @Test
    fun `the README example serves a signed-in person across runs and asks a stranger to sign in`(@TempDir dir: Path) = runBlocking {
        val path = dir.resolve("tokens.json").toString()
        OAuthClient(MockServer.config()).use { client ->
            val login = MockServer.login(client)
            val header = SignedInUser(client, "alice@example.com", fileTokenStore(path), login).use { it.authorization() }
            assertEquals(login.authorizationHeader(), header)
            // A later run finds Alice's login in the file; nobody ever signed Bob in.
            SignedInUser(client, "alice@example.com", fileTokenStore(path)).use { assertEquals(header, it.authorization()) }
            SignedInUser(client, "bob@example.com", fileTokenStore(path)).use { assertNull(it.authorization()) }
        }
        assertEquals(1, MockServer.requests("/v2/token"), "the code exchange only")
    }

    @Test
    fun `a person's provider whose refresh token is refused throws LoginRequired and never asks for an app token`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val login = MockServer.login(client)
            // Spends the login's refresh token: the provider's refresh will be a reuse.
            client.refresh(login.refreshToken()!!)
            client.tokenProvider(initialToken = login).use { provider ->
                assertEquals(Grant.USER, provider.grant())
                provider.invalidate()
                val e = failsWith<TwilioOAuthException.LoginRequired> { provider.token() }
                assertEquals(400, e.status)
                assertEquals(322403L, e.code)
                assertTrue(e.serverMessage.isNotEmpty())
                assertEquals(e.toString(), e.message)
                assertEquals("LoginRequiredError", errorKind(e))
                assertTrue(e.toString().startsWith("sign in again: HTTP 400"), e.toString())
                // It is an error of the tree like any other: one catch handles them all.
                val root: TwilioOAuthException = e
                assertTrue(root is Exception)
                assertEquals(1uL, provider.stats().failures)
            }
        }
        assertEquals(listOf("authorization_code", "refresh_token", "refresh_token"), MockServer.grantTypes())
        assertFalse("client_credentials" in MockServer.grantTypes(), "no app token was asked for")
        assertEquals(1, stat("refresh_reuses"))
        assertEquals(1, stat("grants_revoked"))
    }

    @Test
    fun `a person's provider with no login to renew throws LoginRequired without a request`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            for (provider in listOf(
                client.tokenProvider(account = "alice@example.com"),
                client.tokenProvider(grant = Grant.USER),
            )) {
                provider.use {
                    assertEquals(Grant.USER, it.grant())
                    val e = failsWith<TwilioOAuthException.LoginRequired> { it.token() }
                    assertEquals(401, e.status)
                    assertEquals("login_required", e.error)
                }
            }
        }
        assertEquals(0, MockServer.requests("/v2/token"), "nothing to ask the server, and never an app token")
    }

    @Test
    fun `rotation over five refreshes never sends a refresh token twice`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val login = MockServer.login(client)
            client.tokenProvider(initialToken = login).use { provider ->
                val tokens = mutableListOf(login)
                repeat(5) {
                    provider.invalidate()
                    tokens += provider.token()
                }
                assertEquals(6, tokens.map { it.accessToken() }.toSet().size)
                assertEquals(6, tokens.map { it.refreshToken() }.toSet().size, "each refresh brings a new refresh token")
                assertEquals(5uL, provider.stats().fetches)
            }
        }
        assertEquals(5, stat("refreshes"))
        assertEquals(0, stat("refresh_reuses"))
        assertEquals(0, stat("grants_revoked"))
    }

    @Test
    fun `two people in one file store stay apart`(@TempDir dir: Path) = runBlocking {
        val path = dir.resolve("tokens.json").toString()
        val people = listOf("US11111111111111111111111111111111", "US22222222222222222222222222222222")
        OAuthClient(MockServer.config()).use { client ->
            val keys = people.map { person ->
                MockServer.configure("""{"user_sid": "$person"}""")
                val login = MockServer.login(client)
                client.tokenProvider(store = fileTokenStore(path), initialToken = login, account = person).use {
                    assertEquals(login.accessToken(), it.token().accessToken())
                    it.key()
                }
            }
            assertNotEquals(keys[0], keys[1])
            // A later run: the label alone finds each person's login, and only theirs.
            for (person in people) {
                client.tokenProvider(store = fileTokenStore(path), account = person).use { provider ->
                    assertEquals(person, provider.token().claims()["sub"])
                    assertEquals(1uL, provider.stats().storeHits)
                    assertEquals(0uL, provider.stats().fetches)
                }
            }
        }
        assertEquals(2, MockServer.requests("/v2/token"), "the two code exchanges, nothing else")
    }

    @Test
    fun `two providers sharing a file store refresh one login once`(@TempDir dir: Path) = runBlocking {
        val path = dir.resolve("tokens.json").toString()
        OAuthClient(MockServer.config()).use { client ->
            val login = MockServer.login(client)
            // Two processes' worth of providers: each has its own cache and only the file
            // (and its lock) in common.
            val first = client.tokenProvider(store = fileTokenStore(path), initialToken = login, account = "alice")
            first.token()
            val second = client.tokenProvider(store = fileTokenStore(path), account = "alice")
            assertEquals(login.accessToken(), second.token().accessToken())
            // Slow answers: both refreshes would be on the wire together without the lock.
            MockServer.configure("""{"latency_ms": 300}""")
            first.invalidate()
            second.invalidate()
            val tokens = listOf(first, second).map { p -> async(Dispatchers.Default) { p.token() } }.awaitAll()
            assertEquals(tokens[0].accessToken(), tokens[1].accessToken())
            assertNotEquals(login.accessToken(), tokens[0].accessToken())
            assertEquals(1uL, first.stats().fetches + second.stats().fetches)
            first.close()
            second.close()
        }
        assertEquals(1, stat("refreshes"))
        assertEquals(0, stat("refresh_reuses"))
        assertEquals(0, stat("grants_revoked"))
    }

    @Test
    fun `cancelling the first caller leaves the shared fetch running for the others and its token installed`() = runBlocking {
        // Slow enough that the cancel lands while the request is on the wire.
        MockServer.configure("""{"latency_ms": 1500}""")
        OAuthClient(MockServer.config()).use { client ->
            client.tokenProvider().use { provider ->
                val first = launch(Dispatchers.Default) { provider.token() }
                eventually("the fetch reached the server") { MockServer.requests("/v2/token") == 1 }
                val second = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { provider.token() }
                first.cancelAndJoin()
                assertTrue(first.isCancelled)
                val token = second.await()
                assertEquals(token.accessToken(), provider.cached()?.accessToken())
                assertEquals(token.accessToken(), provider.token().accessToken(), "the next call is a cache hit")
                assertEquals(1, MockServer.requests("/v2/token"))
                assertEquals(1uL, provider.stats().fetches)
            }
        }
    }

    @Test
    fun `a fetch whose only caller was cancelled still installs its token`() = runBlocking {
        MockServer.configure("""{"latency_ms": 1500}""")
        OAuthClient(MockServer.config()).use { client ->
            client.tokenProvider().use { provider ->
                val only = launch(Dispatchers.Default) { provider.token() }
                eventually("the fetch reached the server") { MockServer.requests("/v2/token") == 1 }
                only.cancelAndJoin()
                assertNull(provider.cached(), "the answer is still on its way")
                eventually("the token is installed with nobody waiting") { provider.cached() != null }
                val cached = provider.cached()!!.accessToken()
                assertEquals(cached, provider.token().accessToken())
                assertEquals(1, MockServer.requests("/v2/token"))
                assertEquals(1uL, provider.stats().fetches)
            }
        }
    }

    @Test
    fun `client credentials act on behalf of an account, which is part of the provider's key`() = runBlocking {
        val other = "AC" + "f".repeat(32)
        OAuthClient(MockServer.config()).use { client ->
            assertEquals(other, client.clientCredentials(accountSid = other).claims()["account_sid"])
            client.tokenProvider(accountSid = other).use { provider ->
                assertEquals(Grant.APP, provider.grant())
                assertEquals(other, provider.token().claims()["account_sid"])
                client.tokenProvider().use { plain -> assertNotEquals(plain.key(), provider.key()) }
            }
            // An app provider stays one even when asked for a person's account label.
            client.tokenProvider(account = "alice", grant = Grant.APP).use { provider ->
                assertEquals(Grant.APP, provider.grant())
                assertTrue(provider.token().accessToken().isNotEmpty())
            }
        }
        assertEquals(listOf("client_credentials", "client_credentials", "client_credentials"), MockServer.grantTypes())
    }

    @Test
    fun `a token folder others can write is refused, counted, and never breaks token acquisition`(@TempDir dir: Path) = runBlocking {
        val open = Files.createDirectory(dir.resolve("open"))
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"))
        val store = fileTokenStore(open.resolve("tokens.json").toString())
        failsWith<TwilioOAuthException.Store> { store.save("k", Token("opaque-access", expiresIn = Duration.ofSeconds(60))) }
        OAuthClient(MockServer.config()).use { client ->
            client.tokenProvider(store = store).use { provider ->
                assertTrue(provider.token().accessToken().isNotEmpty())
                assertTrue(provider.stats().storeErrors >= 1uL, "${provider.stats()}")
            }
        }
        assertFalse(Files.exists(open.resolve("tokens.json")), "nothing written where others can write")
        assertEquals(1, MockServer.requests("/v2/token"))
    }
}
