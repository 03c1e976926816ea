package twiliooauth

import org.json.JSONArray
import org.json.JSONObject
import java.io.File
import java.net.URI
import java.net.URLDecoder
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

    /** The person who approves logins unless the config's `user_sid` names another. */
    const val USER_SID = "US0123456789abcdef0123456789abcdef"

    /** Where the logins of the tests "redirect" (never followed). */
    const val REDIRECT_URI = "http://127.0.0.1/callback"

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
        Runtime.getRuntime().addShutdownHook(
            Thread {
                process.outputStream.close()
                process.waitFor(5, TimeUnit.SECONDS)
                process.destroy()
            },
        )
    }

    /** A confidential client (client credentials) against this server. */
    fun config(
        clientId: String = CLIENT_ID,
        clientSecret: String? = CLIENT_SECRET,
        maxRetries: UInt? = 0u,
        timeout: Duration? = Duration.ofSeconds(10),
    ) = OAuthConfig(
        clientId = clientId,
        clientSecret = clientSecret,
        accountSid = ACCOUNT_SID,
        authToken = AUTH_TOKEN,
        baseUrl = url,
        maxRetries = maxRetries,
        timeout = timeout,
    )

    // No body: the server does not read one here, and an unread body can make it close the
    // keep-alive connection right after answering.
    fun reset() = post("/admin/reset", null)

    fun configure(json: String) = post("/admin/config", json)

    fun fault(endpoint: String, responsesJson: String) = post("/admin/faults", """{"endpoint": "$endpoint", "responses": $responsesJson}""")

    fun approve(userCode: String) = post("/admin/device/approve", """{"user_code": "$userCode"}""")

    fun deny(userCode: String) = post("/admin/device/deny", """{"user_code": "$userCode"}""")

    /** How many requests an endpoint has received since the last reset. */
    fun requests(endpoint: String): Int {
        val stats = get("/admin/stats").body()
        val match = Regex(""""${Regex.escape(endpoint)}"\s*:\s*(\d+)""").find(stats)
        return match?.groupValues?.get(1)?.toInt() ?: 0
    }

    /** `GET /admin/stats`: `requests`, `tokens_issued`, `refreshes`, `refresh_reuses`, `grants_revoked`. */
    fun stats(): JSONObject = JSONObject(get("/admin/stats").body())

    /** `GET /admin/requests`: what reached the server since the last reset (form fields included). */
    fun requestLog(): List<JSONObject> {
        val list = JSONArray(get("/admin/requests").body())
        return (0 until list.length()).map { list.getJSONObject(it) }
    }

    /** The `grant_type` of each token request the server received, in order (v1's `GrantType`). */
    fun grantTypes(): List<String> = requestLog().mapNotNull { r ->
        val form = r.optJSONObject("form") ?: return@mapNotNull null
        (form.optJSONArray("grant_type") ?: form.optJSONArray("GrantType"))?.optString(0)
    }

    /**
     * A person signs in: `authorizationUrl` with PKCE, the authorize redirect (not followed),
     * `exchangeCode`. The token has a refresh token (`offline_access`) and, with `openid`, an id
     * token; its `sub` is the config's `user_sid`.
     */
    suspend fun login(client: OAuthClient, scope: String = "openid offline_access"): Token {
        val request = client.authorizationUrl(REDIRECT_URI, scope = scope)
        val answer = get(request.url().removePrefix(url))
        check(answer.statusCode() == 302) { "the authorize endpoint answered ${answer.statusCode()}" }
        val location = answer.headers().firstValue("location").orElseThrow()
        val back = URI.create(location).rawQuery.orEmpty().split('&').filter { it.isNotEmpty() }.associate {
            val (k, v) = (it.split('=', limit = 2) + "").take(2)
            URLDecoder.decode(k, Charsets.UTF_8) to URLDecoder.decode(v, Charsets.UTF_8)
        }
        check(back["state"] == request.state()) { "the redirect must carry our state back" }
        val code = back["code"] ?: error("the redirect carries no code")
        return client.exchangeCode(code, redirectUri = REDIRECT_URI, codeVerifier = request.codeVerifier())
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
        System.getProperty(name) ?: error("system property $name is not set (run through mvn test)"),
    ).readText()
}
