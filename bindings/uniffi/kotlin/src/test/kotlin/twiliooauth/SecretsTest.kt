package twiliooauth

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test

@DisplayName("Secrets")
class SecretsTest {
    @BeforeEach
    fun reset() {
        MockServer.reset()
    }

    private fun assertHidden(shown: String, vararg secrets: String) {
        for (secret in secrets) {
            assertFalse(shown.contains(secret), "a secret shows in: $shown")
        }
    }

    @Test
    fun `no secret shows in toString of a token, the client, its config or a provider`() = runBlocking {
        val config = MockServer.config()
        OAuthClient(config).use { client ->
            val provider = client.tokenProvider(scope = "openid offline_access")
            val token = provider.token()
            val secrets = listOfNotNull(
                MockServer.CLIENT_SECRET,
                MockServer.AUTH_TOKEN,
                token.accessToken(),
                token.refreshToken(),
                token.idToken(),
            ).toTypedArray()
            assertHidden(token.toString(), *secrets)
            assertTrue(token.toString().startsWith("Bearer "), token.toString())
            assertHidden(config.toString(), *secrets)
            assertTrue(config.toString().contains(MockServer.CLIENT_ID), config.toString())
            assertHidden(config.copy(baseUrl = null).toString(), *secrets)
            assertHidden(client.toString(), *secrets)
            assertHidden(provider.toString(), *secrets)
            assertHidden(provider.stats().toString(), *secrets)
        }
    }

    @Test
    fun `no secret shows in an authorization request or an error`() = runBlocking {
        OAuthClient(MockServer.config(clientSecret = "wrong-secret-value-123")).use { client ->
            val request = client.authorizationUrl("https://app.example/cb")
            assertHidden(request.toString(), request.codeVerifier())
            val e = runCatching { client.clientCredentials() }.exceptionOrNull()
            assertTrue(e is TwilioOAuthException.Api, "$e")
            assertHidden("$e ${e?.message}", "wrong-secret-value-123", MockServer.AUTH_TOKEN)
        }
    }
}
