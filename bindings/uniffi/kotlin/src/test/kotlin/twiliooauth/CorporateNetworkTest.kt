package twiliooauth

import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The mock server in TLS mode (`--ca-out FILE`): `url` is `https://127.0.0.1:PORT`; the same port
 * answers plain HTTP (`proxy`, the admin API) and is a CONNECT proxy that counts its tunnels.
 */
object TlsMock {
    private val dir: File = Files.createTempDirectory("twilio-oauth-corporate").toFile()
    val caFile = File(dir, "ca.pem")
    private val process: Process
    val url: String
    val proxy: String
    private val http: HttpClient = HttpClient.newHttpClient()

    init {
        val binary = System.getProperty("twilio.oauth.mock")
            ?: error("system property twilio.oauth.mock is not set (run through mvn test)")
        process = ProcessBuilder(binary, "--port", "0", "--exit-on-stdin-eof", "--ca-out", caFile.path)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        val line = process.inputStream.bufferedReader().readLine()
            ?: error("twilio-oauth-mock exited before printing its address")
        url = Regex("""^listening on (https://\S+)$""").find(line.trim())?.groupValues?.get(1)
            ?: error("unexpected first line from twilio-oauth-mock: $line")
        proxy = url.replace("https://", "http://")
    }

    fun stop() {
        process.outputStream.close()
        process.waitFor(5, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }

    private fun admin(method: String, path: String): JSONObject {
        val request = HttpRequest.newBuilder(URI.create(proxy + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build()
        return JSONObject(http.send(request, HttpResponse.BodyHandlers.ofString()).body())
    }

    fun reset() = admin("POST", "/admin/reset")

    fun tunnels(): Int = admin("GET", "/admin/stats").getInt("tunnels")

    fun tokenRequests(): Int = admin("GET", "/admin/stats").getJSONObject("requests").optInt("/v2/token")

    fun config(caFile: String? = null, caPem: String? = null, proxy: String? = null) = OAuthConfig(
        clientId = MockServer.CLIENT_ID,
        clientSecret = MockServer.CLIENT_SECRET,
        baseUrl = url,
        maxRetries = 0u,
        timeout = Duration.ofSeconds(10),
        caFile = caFile,
        caPem = caPem,
        proxy = proxy,
    )
}

/** The child process of the environment tests: one token from a client built from the environment. */
object CorporateNetworkChild {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        OAuthClient.fromEnv(maxRetries = 0u).use { it.clientCredentials() }
        Unit
    }
}

@DisplayName("Corporate networks")
class CorporateNetworkTest {
    companion object {
        @JvmStatic
        @AfterAll
        fun stop() = TlsMock.stop()
    }

    @BeforeEach
    fun reset() {
        TlsMock.reset()
    }

    @Test
    fun `with the CA as a file or PEM text the server is trusted`() = runBlocking {
        OAuthClient(TlsMock.config(caFile = TlsMock.caFile.path)).use { it.clientCredentials() }
        OAuthClient(TlsMock.config(caPem = TlsMock.caFile.readText())).use { it.clientCredentials() }
        assertEquals(2, TlsMock.tokenRequests())
        assertEquals(0, TlsMock.tunnels())
    }

    @Test
    fun `without the CA the error is a Transport error naming certificate verification`() {
        val e = assertThrows<TwilioOAuthException.Transport> {
            runBlocking { OAuthClient(TlsMock.config()).use { it.clientCredentials() } }
        }
        println("without the CA: ${e.message}")
        assertTrue(e.message!!.contains("certificate verification failed"), e.message)
        assertEquals(0, TlsMock.tokenRequests())
    }

    @Test
    fun `a bad CA or proxy is a Config error naming the option, never showing a password`() {
        for ((config, named) in listOf(
            TlsMock.config(caFile = "/nonexistent/ca.pem") to "ca_file",
            TlsMock.config(caPem = "hello") to "ca_pem",
            TlsMock.config(proxy = "socks5://alice:pa55word@proxy:1080") to "proxy",
        )) {
            val e = assertThrows<TwilioOAuthException.Config> { OAuthClient(config) }
            assertTrue(e.message!!.contains(named), e.message)
            assertFalse(e.message!!.contains("pa55word"), e.message)
        }
        val secret = TlsMock.config(proxy = "http://alice:pa55word@proxy.corp:3128")
        assertFalse(secret.toString().contains("pa55word"), secret.toString())
    }

    @Test
    fun `through an explicit proxy the tunnel count goes up`() = runBlocking {
        val proxy = TlsMock.proxy.replace("http://", "http://alice:pa55word@")
        OAuthClient(TlsMock.config(caFile = TlsMock.caFile.path, proxy = proxy)).use { client ->
            repeat(3) { client.clientCredentials() }
        }
        // One tunnel carries the pooled connection's three requests.
        assertEquals(1, TlsMock.tunnels())
        assertEquals(3, TlsMock.tokenRequests())
    }

    /** The environment is read when a client is built, and a JVM cannot set its own: a child JVM. */
    private fun child(vararg env: Pair<String, String>) {
        val java = File(System.getProperty("java.home"), "bin/java").path
        val builder = ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            "-Djna.library.path=${System.getProperty("jna.library.path")}",
            CorporateNetworkChild::class.java.name,
        ).redirectErrorStream(true)
        val vars = builder.environment()
        listOf("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")
            .forEach { vars.remove(it) }
        vars["TWILIO_OAUTH_BASE_URL"] = TlsMock.url
        vars["TWILIO_OAUTH_CA_FILE"] = TlsMock.caFile.path
        env.forEach { (k, v) -> vars[k] = v }
        val process = builder.start()
        val output = process.inputStream.bufferedReader().readText()
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM hung")
        assertEquals(0, process.exitValue(), output)
    }

    @Test
    fun `HTTPS_PROXY from the environment goes through the proxy`() {
        child("HTTPS_PROXY" to TlsMock.proxy)
        assertEquals(1, TlsMock.tunnels())
        assertEquals(1, TlsMock.tokenRequests())
    }

    @Test
    fun `NO_PROXY bypasses the environment's proxy`() {
        child("HTTPS_PROXY" to TlsMock.proxy, "NO_PROXY" to "127.0.0.1")
        assertEquals(0, TlsMock.tunnels())
        assertEquals(1, TlsMock.tokenRequests())
    }
}
