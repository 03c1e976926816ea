// The Kotlin quick start of bindings/uniffi/README.md: QuickStartTest checks that the README
// shows exactly the code between the markers, and runs it against the mock server.
package twiliooauth

// quick-start:begin
import kotlinx.coroutines.future.await
import twiliooauth.OAuthClient
import twiliooauth.OAuthConfig
import twiliooauth.TwilioOAuthException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse

/** GETs a Twilio REST resource with an OAuth token; every call shares one cached token. */
class TwilioApi(config: OAuthConfig, private val apiBase: String = "https://api.twilio.com") : AutoCloseable {
    private val client = OAuthClient(config)
    private val provider = client.tokenProvider()
    private val http = HttpClient.newHttpClient()

    suspend fun get(path: String): String {
        var response = send(path, provider.authorizationHeader())
        if (response.statusCode() == 401) {
            // Revoked early: drop the cached token and try once more with a fresh one.
            provider.invalidate()
            response = send(path, provider.authorizationHeader())
        }
        return response.body()
    }

    private suspend fun send(path: String, authorization: String): HttpResponse<String> {
        val request = HttpRequest.newBuilder(URI.create(apiBase + path))
            .header("Authorization", authorization)
            .build()
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).await()
    }

    override fun close() {
        provider.close()
        client.close()
    }
}

/** The account's JSON, or why Twilio refused the token request. */
suspend fun accountSummary(config: OAuthConfig, accountSid: String, apiBase: String = "https://api.twilio.com"): String = try {
    TwilioApi(config, apiBase).use { api -> api.get("/2010-04-01/Accounts/$accountSid.json") }
} catch (e: TwilioOAuthException.Api) {
    "Twilio refused the token request: HTTP ${e.status}, code ${e.code}: ${e.serverMessage}"
}
// quick-start:end
