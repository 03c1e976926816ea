package twiliooauth

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The local Twilio OAuth server (`twilio-oauth-mock`), started once per test JVM with
 * `--port 0 --exit-on-stdin-eof` and driven through its admin API.
 */
object MockServer {
    const val CLIENT_ID = "OQ0123456789abcdef0123456789abcdef"
    const val CLIENT_SECRET = "mock-client-secret-0123456789"
    const val PUBLIC_CLIENT_ID = "OQfedcba9876543210fedcba9876543210"
    const val ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
    const val AUTH_TOKEN = "mock-auth-token-0123456789abcdef"

    private val process: Process
    val url: String
    private val http: HttpClient = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5))
        .build()

    init {
        val binary = System.getProperty("twilio.oauth.mock")
            ?: error("system property twilio.oauth.mock is not set (run through mvn test)")
        // Its stderr (credentials, warnings, a panic if any) goes next to the binary.
        val log = File(File(binary).parentFile, "twilio-oauth-mock.log")
        process = ProcessBuilder(binary, "--port", "0", "--exit-on-stdin-eof")
            .redirectError(ProcessBuilder.Redirect.to(log))
            .start()
        val line = process.inputStream.bufferedReader().readLine()
            ?: error("twilio-oauth-mock exited before printing its address")
        url = Regex("""^listening on (http://\S+)$""").find(line.trim())?.groupValues?.get(1)
            ?: error("unexpected first line from twilio-oauth-mock: $line")
        Runtime.getRuntime().addShutdownHook(Thread {
            process.outputStream.close()
            process.waitFor(5, TimeUnit.SECONDS)
            process.destroy()
        })
    }

    /** A confidential client (client credentials) against this server. */
    fun config(
        clientId: String = CLIENT_ID,
        clientSecret: String? = CLIENT_SECRET,
        maxRetries: UInt? = 0u,
        timeoutSeconds: Double? = 10.0,
    ) = OAuthConfig(
        clientId = clientId,
        clientSecret = clientSecret,
        accountSid = ACCOUNT_SID,
        authToken = AUTH_TOKEN,
        baseUrl = url,
        timeoutSeconds = timeoutSeconds,
        maxRetries = maxRetries,
    )

    // No body: the server does not read one here, and an unread body can make it close the
    // keep-alive connection right after answering.
    fun reset() = post("/admin/reset", null)

    fun configure(json: String) = post("/admin/config", json)

    fun fault(endpoint: String, responsesJson: String) =
        post("/admin/faults", """{"endpoint": "$endpoint", "responses": $responsesJson}""")

    fun approve(userCode: String) = post("/admin/device/approve", """{"user_code": "$userCode"}""")

    fun deny(userCode: String) = post("/admin/device/deny", """{"user_code": "$userCode"}""")

    /** How many requests an endpoint has received since the last reset. */
    fun requests(endpoint: String): Int {
        val stats = get("/admin/stats").body()
        val match = Regex(""""${Regex.escape(endpoint)}"\s*:\s*(\d+)""").find(stats)
        return match?.groupValues?.get(1)?.toInt() ?: 0
    }

    fun get(path: String, headers: Map<String, String> = emptyMap()): HttpResponse<String> {
        val request = HttpRequest.newBuilder(URI.create(url + path)).GET()
        headers.forEach { (k, v) -> request.header(k, v) }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString())
    }

    private fun post(path: String, json: String?): String {
        val request = HttpRequest.newBuilder(URI.create(url + path))
        if (json == null) {
            request.POST(HttpRequest.BodyPublishers.noBody())
        } else {
            request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json))
        }
        val response = http.send(request.build(), HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() in 200..299) { "POST $path answered ${response.statusCode()}: ${response.body()}" }
        return response.body()
    }

    fun readProperty(name: String): String = File(
        System.getProperty(name) ?: error("system property $name is not set (run through mvn test)")
    ).readText()
}
