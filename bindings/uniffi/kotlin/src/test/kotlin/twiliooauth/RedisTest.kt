package twiliooauth

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.BufferedInputStream
import java.io.ByteArrayOutputStream
import java.io.File
import java.io.InputStream
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Files
import java.util.concurrent.TimeUnit

/**
 * A real `redis-server` (Debian's package) on a free port, with its own folder and no
 * persistence, stopped by [close].
 */
class RedisServer : AutoCloseable {
    val port: Int = ServerSocket(0).use { it.localPort }
    private val dir: File = Files.createTempDirectory("twilio-oauth-redis").toFile()
    private var process: Process? =
        ProcessBuilder(
            "redis-server", "--port", "$port", "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", dir.path,
        ).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()

    init {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (runCatching { command("PING") }.getOrNull() != "PONG") {
            check(process?.isAlive == true) { "redis-server exited (is it installed? apt-get install redis-server)" }
            check(System.nanoTime() < deadline) { "redis-server did not answer within 10 s" }
            Thread.sleep(10)
        }
    }

    val url: String get() = "redis://127.0.0.1:$port/0"

    /**
     * One command in RESP, Redis's own protocol, over a plain socket: what anyone who can reach
     * the database reads, with no twilio-oauth code in between.
     */
    fun command(vararg args: String): Any? = Socket("127.0.0.1", port).use { socket ->
        socket.soTimeout = 5_000
        val request = StringBuilder("*${args.size}\r\n")
        for (arg in args) request.append("\$${arg.toByteArray().size}\r\n").append(arg).append("\r\n")
        socket.getOutputStream().apply {
            write(request.toString().toByteArray())
            flush()
        }
        reply(BufferedInputStream(socket.getInputStream()))
    }

    private fun reply(input: InputStream): Any? {
        val line = line(input)
        val rest = line.substring(1)
        return when (line[0]) {
            '+' -> rest
            '-' -> error("Redis answered $rest")
            ':' -> rest.toLong()
            '$' -> if (rest.toInt() < 0) null else String(input.readNBytes(rest.toInt())).also { line(input) }
            '*' -> (0 until rest.toInt()).map { reply(input) }
            else -> error("not RESP: $line")
        }
    }

    private fun line(input: InputStream): String {
        val bytes = ByteArrayOutputStream()
        while (true) {
            val b = input.read()
            check(b >= 0) { "Redis closed the connection" }
            if (b == '\n'.code) break
            if (b != '\r'.code) bytes.write(b)
        }
        return bytes.toString(Charsets.UTF_8)
    }

    /** The values stored under the token keys of `prefix`. */
    fun tokenValues(prefix: String = "twilio-oauth:"): List<String> =
        (command("KEYS", "${prefix}token:*") as List<*>).map { command("GET", it as String) as String }

    fun stop() {
        process?.let {
            it.destroy()
            it.waitFor(10, TimeUnit.SECONDS)
        }
        process = null
    }

    override fun close() {
        stop()
        dir.deleteRecursively()
    }
}

/**
 * `RedisStore` against a real `redis-server`: the fleet's lock reaches the core (two stores,
 * as two processes would have, make one token request), values at rest, Redis going away.
 */
@DisplayName("RedisStore")
class RedisTest {
    companion object {
        private lateinit var redis: RedisServer
        private val KEY = ByteArray(32) { 7 }

        @JvmStatic
        @BeforeAll
        fun start() {
            redis = RedisServer()
        }

        @JvmStatic
        @AfterAll
        fun stop() = redis.close()
    }

    @BeforeEach
    fun reset() {
        MockServer.reset()
        assertEquals("OK", redis.command("FLUSHALL"))
    }

    @Test
    fun `two providers on two RedisStore instances share one token request`() = runBlocking {
        // Slow answers: without the fleet's lock both fetches would be on the wire together.
        MockServer.configure("""{"latency_ms": 300}""")
        OAuthClient(MockServer.config()).use { client ->
            // Two stores, two connections: what two processes of a fleet would have.
            val providers = List(2) { client.tokenProvider(store = RedisStore(redis.url, encryptionKey = KEY)) }
            val tokens = providers.map { p -> async(Dispatchers.Default) { p.token().accessToken() } }.awaitAll()
            assertEquals(tokens[0], tokens[1])
            assertEquals(1, MockServer.requests("/v2/token"))
            assertEquals(1uL, providers.sumOf { it.stats().fetches })
            assertEquals(1uL, providers.sumOf { it.stats().storeHits }, "the other took the token from Redis")
            assertEquals(0uL, providers.sumOf { it.stats().storeErrors })
            providers.forEach { it.close() }
        }
    }

    @Test
    fun `an encrypted token is unreadable at rest and useless to a store with another key`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            val token = client.tokenProvider(store = RedisStore(redis.url, encryptionKey = KEY)).use { it.token() }
            val stored = redis.tokenValues().single()
            assertFalse(stored.contains(token.accessToken()), "the access token is readable in Redis")
            // Not even a piece of the JWT (its payload names the account) is in the clear.
            token.accessToken().split('.').forEach { assertFalse(stored.contains(it), "a part of the JWT is readable") }

            val otherKey = ByteArray(32) { 9 }
            client.tokenProvider(store = RedisStore(redis.url, encryptionKey = otherKey)).use { other ->
                assertNotEquals(token.accessToken(), other.token().accessToken())
                assertEquals(0uL, other.stats().storeHits, "a value sealed under another key is not used")
            }
        }
        assertEquals(2, MockServer.requests("/v2/token"))
    }

    @Test
    fun `without an encryption key a token is stored in the clear, readable by anyone who reads Redis`() = runBlocking {
        OAuthClient(MockServer.config()).use { client ->
            client.tokenProvider(store = RedisStore(redis.url, keyPrefix = "plain:")).use { provider ->
                val token = provider.token()
                assertTrue(redis.tokenValues("plain:").single().contains(token.accessToken()))
            }
        }
    }

    @Test
    fun `a malformed url or a key of the wrong size is a Config error`() {
        assertThrows<TwilioOAuthException.Config> { RedisStore("not a url") }
        val e = assertThrows<TwilioOAuthException.Config> { RedisStore(redis.url, encryptionKey = ByteArray(16)) }
        assertTrue(e.description.contains("32 bytes"), e.description)
    }

    @Test
    fun `with Redis stopped tokens still flow and the failures are counted`() = runBlocking {
        RedisServer().use { doomed ->
            val store = RedisStore(doomed.url, encryptionKey = KEY)
            OAuthClient(MockServer.config()).use { client ->
                client.tokenProvider(store = store).use { provider ->
                    assertTrue(provider.token().accessToken().isNotEmpty())
                    assertEquals(0uL, provider.stats().storeErrors)
                }
                doomed.stop()
                client.tokenProvider(store = store).use { provider ->
                    assertTrue(provider.token().accessToken().isNotEmpty())
                    val stats = provider.stats()
                    assertTrue(stats.storeErrors > 0uL, "$stats")
                    assertEquals(1uL, stats.fetches)
                    assertEquals(0uL, stats.failures)
                }
            }
        }
        assertEquals(2, MockServer.requests("/v2/token"))
    }
}
