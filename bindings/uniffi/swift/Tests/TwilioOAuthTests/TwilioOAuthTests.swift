// XCTest mirror of the Kotlin tests (bindings/uniffi/kotlin/src/test/kotlin/twiliooauth):
// the same flows against the same mock server, through the generated Swift bindings.

import Foundation
import TwilioOAuth
import XCTest

/// What an app would write over the Keychain: JSON under a key.
final class JsonMapStore: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var saved: [String: String] = [:]
    private var loadCount = 0

    var keys: [String] { lock.lock(); defer { lock.unlock() }; return Array(saved.keys) }
    var loads: Int { lock.lock(); defer { lock.unlock() }; return loadCount }

    func load(key: String) async throws -> Token? {
        lock.lock()
        loadCount += 1
        let json = saved[key]
        lock.unlock()
        guard let json = json else { return nil }
        return try Token.fromJson(json: json)
    }

    func save(key: String, token: Token) async throws {
        let json = token.toJson()
        lock.lock(); defer { lock.unlock() }
        saved[key] = json
    }

    func delete(key: String) async throws {
        lock.lock(); defer { lock.unlock() }
        saved[key] = nil
    }
}

struct KeychainLocked: Error {}

/// A store whose every call throws, as a locked Keychain might.
final class BrokenStore: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var calls: Int { lock.lock(); defer { lock.unlock() }; return count }

    private func record() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    func load(key: String) async throws -> Token? {
        record()
        throw KeychainLocked()
    }

    func save(key: String, token: Token) async throws {
        record()
        throw KeychainLocked()
    }

    func delete(key: String) async throws {
        record()
        throw KeychainLocked()
    }
}

final class ClientTests: XCTestCase {
    let mock = MockServer.shared

    override func setUp() async throws {
        try await mock.reset()
    }

    func testClientCredentialsReturnABearerTokenThatTheAPIAccepts() async throws {
        let client = try OAuthClient(config: mock.config())
        let token = try await client.clientCredentials()
        XCTAssertEqual(token.tokenType(), "Bearer")
        XCTAssertFalse(token.accessToken().isEmpty)
        XCTAssertFalse(token.isExpired())
        XCTAssertGreaterThan(token.expiresIn(), 3000)
        XCTAssertGreaterThan(token.expiresAt(), Date())
        XCTAssertFalse(token.claims().isEmpty, "a JWT access token has claims")
        let (status, body, _) = try await mock.send(
            "GET", "/2010-04-01/Accounts/\(MockServer.accountSid).json",
            headers: ["Authorization": token.authorizationHeader()])
        XCTAssertEqual(status, 200, body)
    }

    func testFromEnvReadsTheTwilioVariablesOrSaysWhatIsMissing() throws {
        if ProcessInfo.processInfo.environment["TWILIO_CLIENT_ID"] == nil {
            XCTAssertThrowsError(try OAuthClient.fromEnv()) { error in
                guard case TwilioOAuthError.Config = error else {
                    return XCTFail("expected Config, got \(error)")
                }
            }
        } else {
            let client = try OAuthClient.fromEnv()
            XCTAssertEqual(client.clientId(), ProcessInfo.processInfo.environment["TWILIO_CLIENT_ID"])
        }
    }

    func testTheAuthorizationUrlCarriesPkceAndItsCodeIsExchangedForAToken() async throws {
        let client = try OAuthClient(config: mock.publicConfig)
        let redirect = "http://127.0.0.1:9/callback"
        let request = try client.authorizationUrl(
            redirectUri: redirect, scope: "openid offline_access", state: "state-1234")
        XCTAssertEqual(queryItems(request.url())["code_challenge_method"], "S256")
        XCTAssertEqual(request.state(), "state-1234")
        XCTAssertGreaterThanOrEqual(request.codeVerifier().count, 43)

        let (status, _, location) = try await mock.send("GET", request.url())
        XCTAssertEqual(status, 302)
        let back = queryItems(try XCTUnwrap(location))
        XCTAssertEqual(back["state"], "state-1234")
        let token = try await client.exchangeCode(
            code: try XCTUnwrap(back["code"]), redirectUri: redirect,
            codeVerifier: request.codeVerifier())
        XCTAssertNotNil(token.idToken(), "openid asks for an id token")
        let refreshToken = try XCTUnwrap(token.refreshToken(), "offline_access gives a refresh token")
        let renewed = try await client.refresh(refreshToken: refreshToken)
        XCTAssertNotEqual(renewed.accessToken(), token.accessToken())
    }

    func testTheRawV1AndV2TokenCallsWork() async throws {
        let client = try OAuthClient(config: mock.config())
        let v2 = try await client.createOauth2Token(grantType: "client_credentials")
        XCTAssertEqual(v2.tokenType(), "Bearer")
        let v1 = try await client.createToken(grantType: "client_credentials")
        XCTAssertFalse(v1.accessToken().isEmpty)
        let v1Requests = try await mock.requests("/v1/token")
        let v2Requests = try await mock.requests("/v2/token")
        XCTAssertEqual(v1Requests, 1)
        XCTAssertEqual(v2Requests, 1)
    }

    func testATokenMadeByHandRoundTripsThroughJson() throws {
        let token = try Token(accessToken: "opaque-access", refreshToken: "opaque-refresh", expiresIn: 120)
        let back = try Token.fromJson(json: token.toJson())
        XCTAssertEqual(token.lifetime(), 120, accuracy: 1)
        XCTAssertEqual(back.accessToken(), "opaque-access")
        XCTAssertEqual(back.refreshToken(), "opaque-refresh")
        XCTAssertNil(back.idToken())
        XCTAssertEqual(back.claimsJson(), "{}")
    }
}

final class ErrorTests: XCTestCase {
    let mock = MockServer.shared

    override func setUp() async throws {
        try await mock.reset()
    }

    private func clientCredentialsError(_ config: OAuthConfig) async throws -> Error {
        let client = try OAuthClient(config: config)
        do {
            _ = try await client.clientCredentials()
        } catch {
            return error
        }
        XCTFail("expected an error")
        throw MockError.admin("no error")
    }

    func testAWrongSecretIsAnApiErrorCarryingTheStatusCodeAndMessage() async throws {
        let error = try await clientCredentialsError(mock.config(clientSecret: "not-the-secret"))
        guard case let TwilioOAuthError.Api(message, status, code, _, serverMessage, _, retryAfter) = error
        else {
            return XCTFail("expected Api, got \(error)")
        }
        XCTAssertEqual(status, 401)
        XCTAssertEqual(code, 321401)
        XCTAssertEqual(serverMessage, "Invalid client credentials")
        XCTAssertNil(retryAfter)
        // `message` is the human text, as in every language: the error's description.
        XCTAssertTrue(message.hasPrefix("HTTP 401, code 321401: Invalid client credentials"), message)
        XCTAssertEqual("\(error)", message)
    }

    func testA429AfterTheLastRetryIsRateLimitedWithRetryAfter() async throws {
        try await mock.fault("/v2/token", #"[{"status": 429, "headers": {"Retry-After": "7"}}]"#)
        let error = try await clientCredentialsError(mock.config())
        guard case let TwilioOAuthError.RateLimited(message, status, _, _, _, _, retryAfter) = error
        else {
            return XCTFail("expected RateLimited, got \(error)")
        }
        XCTAssertEqual(status, 429)
        XCTAssertEqual(retryAfter, 7)
        XCTAssertTrue(message.hasPrefix("rate limited: HTTP 429"), message)
    }

    func testA2xxAnswerWithoutATokenIsInvalidResponseWithAnExcerpt() async throws {
        try await mock.fault("/v2/token", #"[{"status": 200, "body": "<html>maintenance</html>"}]"#)
        let error = try await clientCredentialsError(mock.config())
        guard case let TwilioOAuthError.InvalidResponse(_, status, excerpt) = error else {
            return XCTFail("expected InvalidResponse, got \(error)")
        }
        XCTAssertEqual(status, 200)
        XCTAssertTrue(excerpt.contains("maintenance"), excerpt)
    }

    func testAMalformedClientIdIsAConfigError() {
        XCTAssertThrowsError(try OAuthClient(config: OAuthConfig(clientId: "OQ123"))) { error in
            guard case let TwilioOAuthError.Config(message) = error else {
                return XCTFail("expected Config, got \(error)")
            }
            XCTAssertTrue(message.contains("34"), message)
        }
    }

    func testAServerThatIsNotThereIsATransportError() async throws {
        let config = OAuthConfig(
            clientId: MockServer.clientId, clientSecret: MockServer.clientSecret,
            baseUrl: "http://127.0.0.1:1", maxRetries: 0)
        let error = try await clientCredentialsError(config)
        guard case TwilioOAuthError.Transport = error else {
            return XCTFail("expected Transport, got \(error)")
        }
    }

    func testAServerSlowerThanTheTimeoutIsATimeoutError() async throws {
        try await mock.fault("/v2/token", #"[{"status": 200, "delay_ms": 3000, "passthrough": true}]"#)
        let error = try await clientCredentialsError(mock.config(timeout: 0.3))
        guard case TwilioOAuthError.Timeout = error else {
            return XCTFail("expected Timeout, got \(error)")
        }
    }
}

final class ProviderTests: XCTestCase {
    let mock = MockServer.shared

    override func setUp() async throws {
        try await mock.reset()
    }

    func testSixtyFourTasksShareOneTokenRequest() async throws {
        try await mock.configure(#"{"latency_ms": 300}"#)
        let provider = try OAuthClient(config: mock.config()).tokenProvider()
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<64 {
                group.addTask { try await provider.token().accessToken() }
            }
            var all = Set<String>()
            for try await token in group {
                all.insert(token)
            }
            return all
        }
        XCTAssertEqual(tokens.count, 1)
        let requests = try await mock.requests("/v2/token")
        XCTAssertEqual(requests, 1)
        XCTAssertEqual(provider.stats().fetches, 1)
    }

    func testCachedAnswersWithoutIOBeforeAndAfterTheFirstFetch() async throws {
        let provider = try OAuthClient(config: mock.config()).tokenProvider()
        XCTAssertNil(provider.cached())
        let token = try await provider.token()
        XCTAssertEqual(provider.cached()?.accessToken(), token.accessToken())
        let requests = try await mock.requests("/v2/token")
        XCTAssertEqual(requests, 1)
    }

    func testInvalidateDropsTheCachedTokenSoThatTheNextCallFetchesANewOne() async throws {
        let provider = try OAuthClient(config: mock.config()).tokenProvider()
        let first = try await provider.accessToken()
        provider.invalidate()
        XCTAssertNil(provider.cached())
        let second = try await provider.accessToken()
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(provider.stats().fetches, 2)
    }

    func testTokenAfterUnauthorizedReplacesTheRejectedTokenOnlyOnce() async throws {
        let provider = try OAuthClient(config: mock.config()).tokenProvider()
        let rejected = try await provider.accessToken()
        let fresh = try await provider.tokenAfterUnauthorized(rejectedAccessToken: rejected)
        XCTAssertNotEqual(fresh.accessToken(), rejected)
        let again = try await provider.tokenAfterUnauthorized(rejectedAccessToken: rejected)
        XCTAssertEqual(again.accessToken(), fresh.accessToken())
        let requests = try await mock.requests("/v2/token")
        XCTAssertEqual(requests, 2)
    }
}

final class DeviceFlowTests: XCTestCase {
    let mock = MockServer.shared

    override func setUp() async throws {
        try await mock.reset()
        try await mock.configure(#"{"device_interval": 1}"#)
    }

    func testPollingHonoursSlowDownAndEndsWithTheTokenOnceTheUserApproves() async throws {
        let client = try OAuthClient(config: mock.publicConfig)
        let device = try await client.createDeviceCode(scopes: ["offline_access"])
        XCTAssertEqual(device.interval(), 1)
        try await mock.approve(device.userCode())
        try await mock.fault(
            "/v1/token",
            #"[{"status": 400, "body": {"error": "slow_down", "error_description": "polling too fast"}}]"#)
        let token = try await client.pollDeviceToken(device: device)
        XCTAssertFalse(token.accessToken().isEmpty)
        XCTAssertNotNil(token.refreshToken())
        let polls = try await mock.requests("/v1/token")
        XCTAssertEqual(polls, 2)
    }

    func testCancellingTheTaskStopsThePollingInRust() async throws {
        let client = try OAuthClient(config: mock.publicConfig)
        let device = try await client.createDeviceCode(scopes: ["offline_access"])
        let polling = Task { try await client.pollDeviceToken(device: device) }
        var waited = 0
        while try await mock.requests("/v1/token") < 1 {
            waited += 1
            if waited > 200 {
                polling.cancel()
                return XCTFail("no poll within 10 s")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        polling.cancel()
        do {
            _ = try await polling.value
            XCTFail("the polling ended without being cancelled")
        } catch is CancellationError {
        }
        let polls = try await mock.requests("/v1/token")
        // Three intervals later, a future still alive would have polled again.
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let later = try await mock.requests("/v1/token")
        XCTAssertEqual(later, polls)
    }

    func testAnExplicitCancellationTokenEndsThePollingWithCancelled() async throws {
        let client = try OAuthClient(config: mock.publicConfig)
        let device = try await client.createDeviceCode(scopes: ["offline_access"])
        let cancel = CancellationToken()
        let polling = Task { try await client.pollDeviceTokenWithCancel(device: device, cancel: cancel) }
        var waited = 0
        while try await mock.requests("/v1/token") < 1 {
            waited += 1
            if waited > 200 {
                cancel.cancel()
                return XCTFail("no poll within 10 s")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        cancel.cancel()
        do {
            _ = try await polling.value
            XCTFail("the polling ended without being cancelled")
        } catch TwilioOAuthError.Cancelled {
        }
        XCTAssertTrue(cancel.isCancelled())
    }

    func testAUserWhoRefusesEndsThePollingWithAccessDenied() async throws {
        let client = try OAuthClient(config: mock.publicConfig)
        let device = try await client.createDeviceCode(scopes: ["offline_access"])
        try await mock.deny(device.userCode())
        do {
            _ = try await client.pollDeviceToken(device: device)
            XCTFail("expected AccessDenied")
        } catch TwilioOAuthError.AccessDenied {
        }
    }

    func testTheDeviceCodeIsReadableButNeverShown() async throws {
        let client = try OAuthClient(config: mock.publicConfig)
        let device = try await client.createDeviceCode(scopes: ["offline_access"])
        let shown = String(reflecting: device)
        XCTAssertFalse(shown.contains(device.deviceCode()), shown)
        XCTAssertTrue(shown.contains(device.userCode()), shown)
    }
}

final class StoreTests: XCTestCase {
    let mock = MockServer.shared

    override func setUp() async throws {
        try await mock.reset()
    }

    func testASwiftStoreKeepsTheTokenSoThatASecondProviderNeedsNoRequest() async throws {
        let store = JsonMapStore()
        let client = try OAuthClient(config: mock.config())
        let first = try await client.tokenProvider(store: store).accessToken()
        XCTAssertEqual(store.keys.count, 1)
        let second = try await client.tokenProvider(store: store).accessToken()
        XCTAssertEqual(first, second)
        XCTAssertGreaterThanOrEqual(store.loads, 2)
        let requests = try await mock.requests("/v2/token")
        XCTAssertEqual(requests, 1)
    }

    func testAStoreThatThrowsNeverBreaksTokenAcquisition() async throws {
        let store = BrokenStore()
        let provider = try OAuthClient(config: mock.config()).tokenProvider(store: store)
        let token = try await provider.accessToken()
        XCTAssertFalse(token.isEmpty)
        XCTAssertGreaterThanOrEqual(store.calls, 1)
    }

    func testARedisStoreWithAMalformedUrlOrKeyIsAConfigError() {
        XCTAssertThrowsError(try RedisStore(url: "not a url")) { error in
            guard case TwilioOAuthError.Config = error else {
                return XCTFail("expected Config, got \(error)")
            }
        }
        XCTAssertThrowsError(
            try RedisStore(url: "redis://127.0.0.1:6379/0", encryptionKey: Data(count: 16))
        ) { error in
            guard case let TwilioOAuthError.Config(message) = error else {
                return XCTFail("expected Config, got \(error)")
            }
            XCTAssertTrue(message.contains("32 bytes"), message)
        }
    }

    func testAStoredStringThatIsNotATokenIsAStoreError() {
        XCTAssertThrowsError(try Token.fromJson(json: "not json")) { error in
            guard case TwilioOAuthError.Store = error else {
                return XCTFail("expected Store, got \(error)")
            }
        }
    }
}

final class UserTests: XCTestCase {
    let mock = MockServer.shared

    override func setUp() async throws {
        try await mock.reset()
    }

    func testAPersonsProviderWhoseRefreshTokenIsRefusedThrowsLoginRequiredAndNeverAsksForAnAppToken()
        async throws
    {
        let client = try OAuthClient(config: mock.config())
        let login = try await mock.login(client)
        _ = try await client.refresh(refreshToken: try XCTUnwrap(login.refreshToken()))
        let provider = try client.tokenProvider(initialToken: login)
        XCTAssertEqual(provider.grant(), .user)
        provider.invalidate()
        do {
            _ = try await provider.token()
            XCTFail("a refused refresh must throw")
        } catch TwilioOAuthError.LoginRequired(let message, let status, let code, _, _, _, _) {
            XCTAssertEqual(status, 400)
            XCTAssertEqual(code, 322403)
            XCTAssertTrue(message.hasPrefix("sign in again: HTTP 400"), message)
        }
        let grants = try await mock.grantTypes()
        XCTAssertFalse(grants.contains("client_credentials"), "\(grants)")
        let reuses = try await mock.stat("refresh_reuses")
        XCTAssertEqual(reuses, 1)
    }

    func testRotationOverFiveRefreshesNeverSendsARefreshTokenTwice() async throws {
        let client = try OAuthClient(config: mock.config())
        let login = try await mock.login(client)
        let provider = try client.tokenProvider(initialToken: login)
        var seen = Set([login.accessToken()])
        for _ in 0..<5 {
            provider.invalidate()
            seen.insert(try await provider.token().accessToken())
        }
        XCTAssertEqual(seen.count, 6)
        XCTAssertEqual(provider.stats().fetches, 5)
        let refreshes = try await mock.stat("refreshes")
        let reuses = try await mock.stat("refresh_reuses")
        XCTAssertEqual(refreshes, 5)
        XCTAssertEqual(reuses, 0)
    }

    func testCancellingTheOnlyCallerStillInstallsTheFetchedToken() async throws {
        try await mock.configure(#"{"latency_ms": 300}"#)
        let provider = try OAuthClient(config: mock.config()).tokenProvider()
        let task = Task { try await provider.token() }
        while try await mock.requests("/v2/token") == 0 {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        task.cancel()
        _ = await task.result
        while provider.cached() == nil {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        _ = try await provider.token()
        XCTAssertEqual(provider.stats().fetches, 1)
        let requests = try await mock.requests("/v2/token")
        XCTAssertEqual(requests, 1)
    }
}

final class SecretTests: XCTestCase {
    let mock = MockServer.shared

    override func setUp() async throws {
        try await mock.reset()
    }

    func testNoSecretShowsInTheDescriptionOfATokenTheClientOrItsConfig() async throws {
        let config = mock.config()
        let client = try OAuthClient(config: config)
        let token = try await client.tokenProvider(scope: "openid offline_access").token()
        let secrets = [MockServer.clientSecret, MockServer.authToken, token.accessToken()]
            + [token.refreshToken(), token.idToken()].compactMap { $0 }
        for shown in [
            "\(token)", String(reflecting: token), "\(config)", String(reflecting: config),
            String(reflecting: client),
        ] {
            for secret in secrets {
                XCTAssertFalse(shown.contains(secret), "a secret shows in: \(shown)")
            }
        }
        XCTAssertTrue("\(token)".hasPrefix("Bearer "))
    }
}
