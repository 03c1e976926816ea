package twiliooauth

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.DisplayName
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.time.Duration
import kotlin.coroutines.cancellation.CancellationException

@DisplayName("Device authorization")
class DeviceFlowTest {
    private val publicClient = MockServer.config(clientId = MockServer.PUBLIC_CLIENT_ID, clientSecret = null)

    @BeforeEach
    fun reset() {
        MockServer.reset()
        MockServer.configure("""{"device_interval": 1}""")
    }

    @Test
    fun `polling honours slow_down and ends with the token once the user approves`() = runBlocking {
        OAuthClient(publicClient).use { client ->
            val device = client.createDeviceCode(listOf("offline_access"))
            assertEquals(Duration.ofSeconds(1), device.interval())
            assertTrue(device.verificationUri().startsWith("http"))
            assertTrue(device.expiresIn() > Duration.ZERO)
            MockServer.approve(device.userCode())
            // The first poll is told to slow down; the client adds 5 s and polls again.
            MockServer.fault("/v1/token", """[{"status": 400, "body": {"error": "slow_down", "error_description": "polling too fast"}}]""")
            val token = client.pollDeviceToken(device)
            assertTrue(token.accessToken().isNotEmpty())
            assertTrue(token.refreshToken() != null, "offline_access gives a refresh token")
            assertEquals(2, MockServer.requests("/v1/token"))
        }
    }

    @Test
    fun `cancelling the coroutine stops the polling in Rust`() = runBlocking {
        OAuthClient(publicClient).use { client ->
            val device = client.createDeviceCode(listOf("offline_access"))
            val polling = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                client.pollDeviceToken(device)
            }
            withTimeout(10_000) {
                while (MockServer.requests("/v1/token") < 1) delay(50)
            }
            polling.cancel()
            assertThrows<CancellationException> { runBlocking { polling.await() } }
            assertTrue(polling.isCancelled)
            val polls = MockServer.requests("/v1/token")
            // Three intervals later, a future still alive would have polled again.
            delay(3_000)
            assertEquals(polls, MockServer.requests("/v1/token"))
        }
    }

    @Test
    fun `an explicit CancellationToken ends the polling with Cancelled`() = runBlocking {
        OAuthClient(publicClient).use { client ->
            val device = client.createDeviceCode(listOf("offline_access"))
            val cancel = CancellationToken()
            val polling = async(Dispatchers.Default) { runCatching { client.pollDeviceToken(device, cancel) } }
            withTimeout(10_000) {
                while (MockServer.requests("/v1/token") < 1) delay(50)
            }
            cancel.cancel()
            val e = polling.await().exceptionOrNull()
            assertTrue(e is TwilioOAuthException.Cancelled, "$e")
            assertTrue(cancel.isCancelled())
        }
    }

    @Test
    fun `a user who refuses ends the polling with AccessDenied`() = runBlocking {
        OAuthClient(publicClient).use { client ->
            val device = client.createDeviceCode(listOf("offline_access"))
            MockServer.deny(device.userCode())
            assertThrows<TwilioOAuthException.AccessDenied> { runBlocking { client.pollDeviceToken(device) } }
            Unit
        }
    }

    @Test
    fun `a device code that expires first ends the polling with ExpiredToken`() = runBlocking {
        MockServer.configure("""{"device_expires_in": 1}""")
        OAuthClient(publicClient).use { client ->
            val device = client.createDeviceCode(listOf("offline_access"))
            assertThrows<TwilioOAuthException.ExpiredToken> { runBlocking { client.pollDeviceToken(device) } }
            Unit
        }
    }

    @Test
    fun `the device code is readable but never shown`() = runBlocking {
        OAuthClient(publicClient).use { client ->
            val device = client.createDeviceCode(listOf("offline_access"), audiences = listOf())
            val code = device.deviceCode()
            assertTrue(code.length >= 8)
            assertFalse(device.toString().contains(code), device.toString())
            assertTrue(device.toString().contains(device.userCode()))
        }
    }
}
