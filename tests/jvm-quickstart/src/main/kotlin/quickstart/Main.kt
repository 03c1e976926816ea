// The README's Kotlin quick start (`TwilioApi`, `accountSummary`, compiled from a copy of
// QuickStart.kt) run as an application that depends on the published jar only, against the local
// server. Exits non-zero (an exception) when anything differs from what the README promises.
package quickstart

import kotlinx.coroutines.runBlocking
import twiliooauth.OAuthClient
import twiliooauth.OAuthConfig
import twiliooauth.TwilioApi
import twiliooauth.accountSummary
import java.lang.management.ManagementFactory
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.TimeUnit
import java.util.logging.Handler
import java.util.logging.Level
import java.util.logging.LogRecord
import java.util.logging.Logger
import java.util.logging.SimpleFormatter

// The local server's confidential client and account (tests/mock-server).
private const val CLIENT_ID = "OQ0123456789abcdef0123456789abcdef"
private const val CLIENT_SECRET = "mock-client-secret-0123456789"
private const val ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"

private fun ms(since: Long) = "%.0f ms".format((System.nanoTime() - since) / 1e6)

fun main(args: Array<String>) {
    val started = System.nanoTime()
    val jvmUp = ManagementFactory.getRuntimeMXBean().uptime
    check(System.getProperty("jna.library.path") == null) { "jna.library.path is set: the library must come from the jar" }

    // JNA says where it found the library (its loggers, under com.sun.jna; read before its first use).
    System.setProperty("jna.debug_load", "true")
    val jnaLog = mutableListOf<String>()
    val jnaLogger = Logger.getLogger("com.sun.jna")
    jnaLogger.useParentHandlers = false
    jnaLogger.addHandler(
        object : Handler() {
            private val format = SimpleFormatter()

            override fun publish(record: LogRecord) {
                jnaLog += format.formatMessage(record)
            }

            override fun flush() {}

            override fun close() {}
        },
    )
    jnaLogger.level = Level.ALL

    val server = ProcessBuilder(args[0], "--port", "0", "--exit-on-stdin-eof")
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start()
    try {
        val line = server.inputStream.bufferedReader().readLine() ?: error("the local server exited before printing its address")
        val url = Regex("""^listening on (http://\S+)$""").find(line.trim())?.groupValues?.get(1) ?: error("unexpected line: $line")
        val http = HttpClient.newHttpClient()
        fun admin(path: String, post: Boolean = false): String {
            val request = HttpRequest.newBuilder(URI.create(url + path))
            if (post) request.POST(HttpRequest.BodyPublishers.noBody())
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body()
        }

        // The README's configuration, pointed at the local server.
        val config = OAuthConfig(clientId = CLIENT_ID, clientSecret = CLIENT_SECRET, baseUrl = url)

        var t = System.nanoTime()
        OAuthClient(config).close()
        val load = ms(t)
        val found = jnaLog.firstOrNull { it.startsWith("Found library resource at") && it.endsWith("/libtwilio_oauth_uniffi.so") }
            ?: error("JNA did not load the library from the class path:\n" + jnaLog.joinToString("\n"))
        check(found.contains(".jar!/linux-x86-64/libtwilio_oauth_uniffi.so")) { found }

        t = System.nanoTime()
        val summary = runBlocking { accountSummary(config, accountSid = ACCOUNT_SID, apiBase = url) }
        check(summary.contains("\"sid\":\"$ACCOUNT_SID\"") || summary.contains("\"sid\": \"$ACCOUNT_SID\"")) { summary }
        val first = ms(t)

        admin("/admin/reset", post = true)
        t = System.nanoTime()
        runBlocking {
            TwilioApi(config, apiBase = url).use { api ->
                repeat(5) { check(api.get("/2010-04-01/Accounts/$ACCOUNT_SID.json").contains(ACCOUNT_SID)) }
            }
        }
        val five = ms(t)
        val tokenRequests = Regex(""""/v2/token"\s*:\s*(\d+)""").find(admin("/admin/stats"))?.groupValues?.get(1)?.toInt() ?: 0
        check(tokenRequests == 1) { "5 API calls made $tokenRequests token requests, not 1" }

        val refused = runBlocking {
            accountSummary(config.copy(clientSecret = "not-the-secret"), accountSid = ACCOUNT_SID, apiBase = url)
        }
        check(refused == "Twilio refused the token request: HTTP 401, code 321401: Invalid client credentials") { refused }

        println("jvm-quickstart: $found")
        println("jvm-quickstart: JVM start to main $jvmUp ms; first call (JNA extracts and loads the library) $load")
        println("jvm-quickstart: accountSummary (a token request and an API call) $first")
        println("jvm-quickstart: TwilioApi, 5 API calls: $tokenRequests token request, $five")
        println("jvm-quickstart: a refused token request: $refused")
        println("jvm-quickstart: main took ${ms(started)} (JNA's log: ${jnaLogger.name}, ${jnaLog.size} lines)")
    } finally {
        server.outputStream.close()
        if (!server.waitFor(5, TimeUnit.SECONDS)) server.destroy()
    }
}
