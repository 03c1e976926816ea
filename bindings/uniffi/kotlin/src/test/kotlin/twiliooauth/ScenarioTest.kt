package twiliooauth

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import java.io.File
import java.math.BigDecimal
import java.net.URI
import java.net.URLDecoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.time.Duration
import kotlin.math.roundToLong

/**
 * The language-independent scenarios of `tests/scenarios` (every `.json` file; see its README), run through
 * the public Kotlin API against the local server: one dynamic test per scenario. Closes with
 * `scenarios: N passed, M failed` and writes `target/scenario-results/kotlin.json`.
 */
@DisplayName("tests/scenarios")
class ScenarioTest {
    @TestFactory
    fun `every scenario behaves through the Kotlin API as it does through the Rust core`(): List<DynamicTest> =
        loadScenarios().map { scenario ->
            val name = scenario.getString("name")
            DynamicTest.dynamicTest(name) { record(name, scenario) }
        }

    companion object {
        private var passed = 0
        private val failed = mutableListOf<String>()

        /** The repository root: three levels above the Maven project. */
        private val repoRoot: File = File(
            System.getProperty("twilio.oauth.repo")
                ?: (System.getProperty("basedir", ".") + "/../../.."),
        ).canonicalFile

        private val http: HttpClient = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build()

        private fun loadScenarios(): List<JSONObject> {
            val dir = File(repoRoot, "tests/scenarios")
            val files = dir.listFiles { f -> f.name.endsWith(".json") }?.sortedBy { it.name }.orEmpty()
            val scenarios = files.flatMap { f ->
                val list = JSONArray(f.readText())
                (0 until list.length()).map { list.getJSONObject(it) }
            }
            check(scenarios.isNotEmpty()) { "no scenario under $dir" }
            return scenarios
        }

        private fun record(name: String, scenario: JSONObject) {
            val problems = try {
                runScenario(scenario)
            } catch (e: Throwable) {
                listOf("the runner failed: $e")
            }
            if (problems.isEmpty()) {
                passed += 1
                println("ok   $name")
            } else {
                failed += name
                val why = problems.joinToString("; ")
                println("FAIL $name: $why")
                throw AssertionError("$name: $why")
            }
        }

        @JvmStatic
        @AfterAll
        fun summary() {
            println("scenarios: $passed passed, ${failed.size} failed")
            val out = File(repoRoot, "target/scenario-results")
            out.mkdirs()
            File(out, "kotlin.json").writeText(
                """{"language": "Kotlin", "passed": $passed, "failed": ${failed.size}}""" + "\n",
            )
        }

        private sealed class Outcome {
            object Built : Outcome()
            class Device(val device: DeviceAuthorization) : Outcome()
            class Tokens(val tokens: List<Token>) : Outcome()
        }

        private fun JSONObject.str(key: String): String? = opt(key) as? String

        private fun JSONObject.strs(key: String): List<String> =
            optJSONArray(key)?.let { a -> (0 until a.length()).mapNotNull { a.opt(it) as? String } }.orEmpty()

        /** An integer as the scenario gives it, or null (like serde's `as_u64`/`as_i64`). */
        private fun integer(v: Any?): Long? = when (v) {
            is Int -> v.toLong()
            is Long -> v
            is java.math.BigInteger -> v.toLong()
            else -> null
        }

        private fun number(v: Any?): Double? = (v as? Number)?.toDouble()

        private fun runScenario(sc: JSONObject): List<String> {
            MockServer.reset()
            val server = sc.optJSONObject("server")
            server?.optJSONObject("config")?.let { MockServer.configure(it.toString()) }
            server?.optJSONObject("faults")?.let { faults ->
                for (endpoint in faults.keySet().sorted()) {
                    val list = JSONArray(faults.getJSONArray(endpoint).toString())
                    for (i in 0 until list.length()) {
                        val headers = list.getJSONObject(i).optJSONObject("headers") ?: continue
                        for (h in headers.keySet()) {
                            (headers.opt(h) as? String)?.let { headers.put(h, it.replace("{server}", MockServer.url)) }
                        }
                    }
                    MockServer.fault(endpoint, list.toString())
                }
            }
            val expect = sc.getJSONObject("expect")
            // What the call itself found wrong (the `user_*` ops check tokens as they come).
            val problems = mutableListOf<String>()
            val started = System.nanoTime()
            val outcome: Result<Outcome> = try {
                OAuthClient(config(sc.optJSONObject("client") ?: JSONObject())).use { client ->
                    Result.success(runBlocking { runCall(client, sc.getJSONObject("call"), problems) })
                }
            } catch (e: TwilioOAuthException) {
                Result.failure(e)
            }
            val took = (System.nanoTime() - started) / 1e9

            val wantOk = expect.optJSONObject("ok")
            val wantError = expect.optJSONObject("error")
            val error = outcome.exceptionOrNull() as TwilioOAuthException?
            when {
                error == null && wantOk != null && wantError == null -> checkOk(outcome.getOrThrow(), wantOk, problems)
                error != null && wantOk == null && wantError != null -> checkError(error, wantError, problems)
                error == null -> problems += "succeeded, but an error was expected"
                else -> problems += "failed with ${errorKind(error)}: $error"
            }
            expect.optJSONObject("requests")?.let { requests ->
                for (path in requests.keySet().sorted()) {
                    val want = integer(requests.opt(path))
                    val got = MockServer.requests(path).toLong()
                    if (got != want) problems += "requests $path: want $want, got $got"
                }
            }
            for ((field, atLeast) in listOf("server_stats" to false, "server_stats_min" to true)) {
                val want = expect.optJSONObject(field) ?: continue
                val stats = MockServer.stats()
                for (name in want.keySet().sorted()) {
                    val w = integer(want.opt(name))
                    val g = integer(stats.opt(name))
                    val ok = w != null && g != null && (g == w || (atLeast && g >= w))
                    if (!ok) problems += "$field.$name: want $w, got $g"
                }
            }
            number(expect.opt("min_seconds"))?.let { min ->
                if (took < min) problems += "took $took s, less than $min s"
            }
            return problems
        }

        private fun config(spec: JSONObject): OAuthConfig {
            var clientId = MockServer.CLIENT_ID
            var clientSecret: String? = MockServer.CLIENT_SECRET
            when (spec.str("client") ?: "confidential") {
                "public" -> {
                    clientId = MockServer.PUBLIC_CLIENT_ID
                    clientSecret = null
                }

                "wrong_secret" -> clientSecret = "wrong-secret"
            }
            val v1 = spec.opt("v1_credentials") != false
            spec.str("client_id")?.let { clientId = it }
            spec.str("client_secret")?.let { clientSecret = it }
            val base = (spec.str("base_url") ?: "{server}")
                .replace("{server}", MockServer.url)
                .replace("{closed_port}", "http://127.0.0.1:1")
            return OAuthConfig(
                clientId = clientId,
                clientSecret = clientSecret,
                accountSid = if (v1) MockServer.ACCOUNT_SID else null,
                authToken = if (v1) MockServer.AUTH_TOKEN else null,
                baseUrl = base,
                maxRetries = integer(spec.opt("max_retries"))?.toUInt(),
                timeout = number(spec.opt("timeout"))?.let(::durationOf),
            )
        }

        private suspend fun runCall(client: OAuthClient, call: JSONObject, problems: MutableList<String>): Outcome {
            fun one(token: Token) = Outcome.Tokens(listOf(token))
            return when (val op = call.getString("op")) {
                "construct" -> Outcome.Built

                "client_credentials" -> one(client.clientCredentials(scope = call.str("scope"), audience = call.str("audience")))

                "create_oauth2_token" -> one(
                    client.createOauth2Token(
                        grantType = call.getString("grant_type"),
                        scope = call.str("scope"),
                        audience = call.str("audience"),
                        accountSid = call.str("account_sid"),
                        refreshToken = call.str("refresh_token"),
                        code = call.str("code"),
                    ),
                )

                "create_token" -> one(client.createToken(grantType = call.getString("grant_type")))

                "create_device_code" -> Outcome.Device(client.createDeviceCode(call.strs("scopes"), call.strs("audiences")))

                "device_flow" -> {
                    val device = client.createDeviceCode(call.strs("scopes"))
                    when (call.str("then")) {
                        "approve" -> MockServer.approve(device.userCode())
                        "deny" -> MockServer.deny(device.userCode())
                    }
                    one(client.pollDeviceToken(device))
                }

                "pkce_flow" -> one(pkce(client, call, right = call.str("verifier") != "wrong"))

                "refresh_flow" -> {
                    val first = pkce(client, call, right = true)
                    val refreshToken = first.refreshToken()
                        ?: throw AssertionError("the code exchange gave no refresh token")
                    one(client.refresh(refreshToken))
                }

                "provider_concurrent" -> client.tokenProvider(scope = call.str("scope")).use { provider ->
                    val results = coroutineScope {
                        (1..call.getInt("callers")).map {
                            async(Dispatchers.Default) { runCatching { provider.token() } }
                        }.awaitAll()
                    }
                    // All tokens, or the first caller's error.
                    Outcome.Tokens(results.map { it.getOrThrow() })
                }

                "provider_repeat" -> client.tokenProvider(scope = call.str("scope")).use { provider ->
                    Outcome.Tokens((1..call.getInt("calls")).map { provider.token() })
                }

                "provider_invalidate" -> client.tokenProvider(scope = call.str("scope")).use { provider ->
                    val first = provider.token()
                    provider.invalidate()
                    Outcome.Tokens(listOf(first, provider.token()))
                }

                "user_refresh_refused" -> {
                    val login = login(client, call)
                    client.refresh(login.refreshToken() ?: throw AssertionError("the login gave no refresh token"))
                    client.tokenProvider(initialToken = login).use { provider ->
                        provider.invalidate()
                        one(provider.token())
                    }
                }

                "user_refresh_cycles" -> {
                    val login = login(client, call)
                    client.tokenProvider(initialToken = login).use { provider ->
                        val tokens = mutableListOf(login)
                        repeat(call.getInt("cycles")) {
                            provider.invalidate()
                            tokens += provider.token()
                        }
                        Outcome.Tokens(tokens)
                    }
                }

                "user_over_lifetimes" -> {
                    val login = login(client, call)
                    client.tokenProvider(initialToken = login).use { provider ->
                        val until = System.nanoTime() + (call.getDouble("seconds") * 1e9).toLong()
                        val every = call.getLong("interval_ms")
                        val tokens = mutableListOf(login)
                        while (System.nanoTime() < until) {
                            val t = provider.token()
                            if (t.expiresIn().isZero || t.isExpired()) problems += "expired token handed out"
                            tokens += t
                            delay(every)
                        }
                        Outcome.Tokens(tokens)
                    }
                }

                "user_no_later_expiry" -> {
                    val login = login(client, call)
                    val oldRefresh = login.refreshToken()
                    client.tokenProvider(initialToken = login, refreshAhead = durationOf(call.getDouble("refresh_ahead"))).use { provider ->
                        delay(call.getLong("wait_ms"))
                        MockServer.configure(call.getJSONObject("then_config").toString())
                        val t1 = provider.token()
                        if (t1.accessToken() != login.accessToken()) {
                            problems += "the first call did not return the login's access token"
                        }
                        val deadline = System.nanoTime() + 5_000_000_000L
                        var kept: Token? = null
                        while (System.nanoTime() < deadline) {
                            val cached = provider.cached()
                            if (cached?.refreshToken() != null && cached.refreshToken() != oldRefresh) {
                                kept = cached
                                break
                            }
                            delay(10)
                        }
                        when {
                            kept == null -> problems += "new refresh token not kept"
                            kept.accessToken() != login.accessToken() -> problems += "the longer-lived access token was not kept"
                        }
                        provider.invalidate()
                        Outcome.Tokens(listOf(t1, provider.token()))
                    }
                }

                "two_users_one_file_store" -> {
                    // A new private folder (0700): the file store refuses one others can write.
                    val dir = Files.createTempDirectory("twilio-oauth-scenario")
                    try {
                        val path = dir.resolve("tokens.json").toString()
                        val users = call.strs("users")
                        for (user in users) {
                            MockServer.configure(JSONObject().put("user_sid", user).toString())
                            val login = login(client, call)
                            client.tokenProvider(store = fileTokenStore(path), initialToken = login, account = user)
                                .use { it.token() }
                        }
                        var last: Token? = null
                        for (user in users) {
                            val t = client.tokenProvider(store = fileTokenStore(path), account = user).use { it.token() }
                            val sub = t.claims()["sub"]
                            if (sub != user) problems += "$user got the token of $sub"
                            last = t
                        }
                        one(last ?: throw AssertionError("no users"))
                    } finally {
                        dir.toFile().deleteRecursively()
                    }
                }

                else -> throw AssertionError("unknown op $op")
            }
        }

        /**
         * A person's login for the `user_*` ops: the PKCE flow with the right verifier, redirect
         * `http://127.0.0.1/callback`, scope `openid offline_access` unless the call names one.
         */
        private suspend fun login(client: OAuthClient, call: JSONObject): Token {
            val spec = JSONObject(call.toString())
                .put("redirect_uri", MockServer.REDIRECT_URI)
            if (!spec.has("scope")) spec.put("scope", "openid offline_access")
            return pkce(client, spec, right = true)
        }

        /** `authorizationUrl`, the authorize redirect (not followed), then `exchangeCode`. */
        private suspend fun pkce(client: OAuthClient, call: JSONObject, right: Boolean): Token {
            val redirect = call.getString("redirect_uri")
            val request = client.authorizationUrl(redirect, scope = call.str("scope"))
            val response = http.send(
                HttpRequest.newBuilder(URI.create(request.url())).GET().build(),
                HttpResponse.BodyHandlers.discarding(),
            )
            val location = response.headers().firstValue("location").orElseThrow {
                AssertionError("the authorize endpoint answered ${response.statusCode()} without a Location")
            }
            val query = URI.create(location).rawQuery.orEmpty().split('&').filter { it.isNotEmpty() }.associate {
                val (k, v) = (it.split('=', limit = 2) + "").take(2)
                URLDecoder.decode(k, StandardCharsets.UTF_8) to URLDecoder.decode(v, StandardCharsets.UTF_8)
            }
            if (query["state"] != request.state()) {
                throw AssertionError("the redirect must carry our state back")
            }
            val code = query["code"] ?: throw AssertionError("the redirect carries no code")
            // A wrong verifier: a fresh one, from another authorization request.
            val verifier = if (right) request.codeVerifier() else client.authorizationUrl(redirect).codeVerifier()
            return client.exchangeCode(code, redirectUri = redirect, codeVerifier = verifier)
        }

        private fun secondsOf(d: Duration): Double = d.seconds + d.nano / 1e9

        private fun durationOf(seconds: Double): Duration = Duration.ofNanos((seconds * 1e9).roundToLong())

        private fun checkOk(outcome: Outcome, want: JSONObject, problems: MutableList<String>) {
            fun check(ok: Boolean, what: () -> String) {
                if (!ok) problems += what()
            }
            when (outcome) {
                is Outcome.Built -> {}

                is Outcome.Device -> {
                    val d = outcome.device
                    integer(want.opt("user_code_length"))?.let { n ->
                        check(d.userCode().length.toLong() == n) { "user_code \"${d.userCode()}\"" }
                    }
                    integer(want.opt("interval"))?.let { n ->
                        check(d.interval().seconds == n) { "interval ${d.interval()}" }
                    }
                }

                is Outcome.Tokens -> {
                    val tokens = outcome.tokens
                    val t = tokens.last()
                    val claims = JSONObject(t.claimsJson())
                    for (key in want.keySet().sorted()) {
                        val v = want.get(key)
                        when (key) {
                            "token_type" -> check(t.tokenType() == v) { "token_type ${t.tokenType()}" }

                            "is_jwt" -> check(claims.isEmpty != v) { "is_jwt" }

                            "expires_in_min" -> check(secondsOf(t.expiresIn()) >= number(v)!!) { "expires_in ${t.expiresIn()}" }

                            "expires_in_max" -> check(secondsOf(t.expiresIn()) <= number(v)!!) { "expires_in ${t.expiresIn()}" }

                            "has_refresh_token" -> check((t.refreshToken() != null) == v) { "has_refresh_token" }

                            "has_id_token" -> check((t.idToken() != null) == v) { "has_id_token" }

                            "claims" -> {
                                val wanted = v as JSONObject
                                for (ck in wanted.keySet().sorted()) {
                                    check(sameJson(wanted.get(ck), claims.opt(ck))) { "claim $ck = ${claims.opt(ck)}" }
                                }
                            }

                            "same_token_for_all" -> check(tokens.all { it.accessToken() == t.accessToken() }) { "same_token_for_all" }

                            "tokens_differ" -> check(tokens.first().accessToken() != t.accessToken()) { "tokens_differ" }

                            else -> problems += "unknown expectation $key"
                        }
                    }
                }
            }
        }

        /** JSON equality (numbers by value), for claims. */
        private fun sameJson(a: Any?, b: Any?): Boolean = when {
            a == null || b == null -> a == b
            a is Number && b is Number -> BigDecimal(a.toString()).compareTo(BigDecimal(b.toString())) == 0
            a is JSONObject && b is JSONObject -> a.similar(b)
            a is JSONArray && b is JSONArray -> a.similar(b)
            else -> a == b
        }

        /** The fields an `ApiError` (or `RateLimitedError`, `LoginRequiredError`) carries; `message` is the server's. */
        private class ApiFields(val code: Long?, val error: String?, val message: String, val moreInfo: String?, val retryAfter: Duration?)

        private fun api(e: TwilioOAuthException): ApiFields? = when (e) {
            is TwilioOAuthException.Api -> ApiFields(e.code, e.error, e.serverMessage, e.moreInfo, e.retryAfter)

            is TwilioOAuthException.LoginRequired -> ApiFields(e.code, e.error, e.serverMessage, e.moreInfo, e.retryAfter)

            is TwilioOAuthException.RateLimited ->
                ApiFields(e.code, e.error, e.serverMessage, e.moreInfo, e.retryAfter)

            else -> null
        }

        private fun status(e: TwilioOAuthException): Long? = when (e) {
            is TwilioOAuthException.Api -> e.status.toLong()
            is TwilioOAuthException.RateLimited -> e.status.toLong()
            is TwilioOAuthException.LoginRequired -> e.status.toLong()
            is TwilioOAuthException.InvalidResponse -> e.status.toLong()
            else -> null
        }

        private fun checkError(e: TwilioOAuthException, want: JSONObject, problems: MutableList<String>) {
            val api = api(e)
            for (key in want.keySet().sorted()) {
                val v = want.get(key)
                val ok = when (key) {
                    "kind" -> errorKind(e) == v

                    "status" -> status(e) == integer(v)

                    "code" -> api?.code == integer(v)

                    "error" -> api?.error == v

                    "message" -> api?.message == v

                    "message_contains" -> e.toString().contains(v as String)

                    "more_info" -> api?.moreInfo == v

                    "retry_after" -> api?.retryAfter?.seconds == integer(v)

                    else -> {
                        problems += "unknown expectation error.$key"
                        continue
                    }
                }
                if (!ok) problems += "error.$key: want $v, got ${errorKind(e)}: $e"
            }
        }
    }
}

/**
 * The public class name of an error, identical in every language. A `when` without an `else`,
 * so a new case of the sealed class does not compile until it has a name here.
 */
internal fun errorKind(e: TwilioOAuthException): String = when (e) {
    is TwilioOAuthException.Config -> "ConfigError"
    is TwilioOAuthException.Api -> "ApiError"
    is TwilioOAuthException.RateLimited -> "RateLimitedError"
    is TwilioOAuthException.LoginRequired -> "LoginRequiredError"
    is TwilioOAuthException.AccessDenied -> "AccessDeniedError"
    is TwilioOAuthException.ExpiredToken -> "ExpiredTokenError"
    is TwilioOAuthException.Transport -> "TransportError"
    is TwilioOAuthException.Timeout -> "TimeoutError"
    is TwilioOAuthException.InvalidResponse -> "InvalidResponseError"
    is TwilioOAuthException.Cancelled -> "CancelledError"
    is TwilioOAuthException.Store -> "StoreError"
    is TwilioOAuthException.Internal -> "TwilioOAuthError"
}
