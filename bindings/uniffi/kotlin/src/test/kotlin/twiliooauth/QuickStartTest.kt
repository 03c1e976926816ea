package twiliooauth

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test

@DisplayName("README quick start")
class QuickStartTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    @Test
    fun `the README shows exactly the quick start code that these tests run`() {
        val source = MockServer.readProperty("twilio.oauth.quickstart")
        val snippet = source.substringAfter("// quick-start:begin\n").substringBefore("// quick-start:end")
        assertTrue(snippet.contains("class TwilioApi"))
        val readme = MockServer.readProperty("twilio.oauth.readme")
        assertTrue(readme.contains("```kotlin\n$snippet```"), "README.md's Kotlin quick start differs from QuickStart.kt")
    }

    @Test
    fun `the quick start fetches the account with one token for many calls`() = runBlocking {
        TwilioApi(MockServer.config(), apiBase = MockServer.url).use { api ->
            repeat(3) {
                val body = api.get("/2010-04-01/Accounts/${MockServer.ACCOUNT_SID}.json")
                assertTrue(body.contains(MockServer.ACCOUNT_SID), body)
            }
        }
        assertEquals(1, MockServer.requests("/v2/token"))
    }

    @Test
    fun `the quick start explains a refused token request`() = runBlocking {
        val config = MockServer.config(clientSecret = "not-the-secret")
        val summary = accountSummary(config, MockServer.ACCOUNT_SID, apiBase = MockServer.url)
        assertEquals("Twilio refused the token request: HTTP 401, code 321401: Invalid client credentials", summary)
    }
}
