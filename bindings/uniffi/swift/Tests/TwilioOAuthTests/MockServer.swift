// The local Twilio OAuth server (`twilio-oauth-mock`), started once per test process with
// `--port 0 --exit-on-stdin-eof` and driven through its admin API. Build it first with
// `cargo build -p twilio-oauth-mock`, or point TWILIO_OAUTH_MOCK at the binary.

import Foundation
import TwilioOAuth
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class MockServer: @unchecked Sendable {
    static let clientId = "OQ0123456789abcdef0123456789abcdef"
    static let clientSecret = "mock-client-secret-0123456789"
    static let publicClientId = "OQfedcba9876543210fedcba9876543210"
    static let accountSid = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "mock-auth-token-0123456789abcdef"

    static let shared = MockServer()

    let url: String
    private let process: Process
    private let stdin: Pipe
    private let session: URLSession

    private init() {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let binary = ProcessInfo.processInfo.environment["TWILIO_OAUTH_MOCK"]
            ?? here.appendingPathComponent("../../../../../target/debug/twilio-oauth-mock")
                .standardizedFileURL.path
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "0", "--exit-on-stdin-eof"]
        let stdout = Pipe()
        stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            fatalError("cannot start \(binary): \(error) (run `cargo build -p twilio-oauth-mock`)")
        }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty {
                fatalError("twilio-oauth-mock exited before printing its address")
            }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let prefix = "listening on "
        precondition(text.hasPrefix(prefix), "unexpected first line from twilio-oauth-mock: \(text)")
        url = String(text.dropFirst(prefix.count))
        session = URLSession(
            configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
    }

    /// A confidential client (client credentials) against this server.
    func config(
        clientId: String = MockServer.clientId,
        clientSecret: String? = MockServer.clientSecret,
        maxRetries: UInt32? = 0,
        timeout: TimeInterval? = 10
    ) -> OAuthConfig {
        OAuthConfig(
            clientId: clientId,
            clientSecret: clientSecret,
            accountSid: MockServer.accountSid,
            authToken: MockServer.authToken,
            baseUrl: url,
            maxRetries: maxRetries,
            timeout: timeout
        )
    }

    var publicConfig: OAuthConfig {
        config(clientId: MockServer.publicClientId, clientSecret: nil)
    }

    /// No body: the server does not read one here, and an unread body can make it close the
    /// keep-alive connection right after answering.
    func reset() async throws {
        let (status, body, _) = try await send("POST", "/admin/reset")
        guard status == 200 else {
            throw MockError.admin("POST /admin/reset answered \(status): \(body)")
        }
    }

    func configure(_ json: String) async throws {
        try await post("/admin/config", json)
    }

    func fault(_ endpoint: String, _ responsesJson: String) async throws {
        try await post("/admin/faults", "{\"endpoint\": \"\(endpoint)\", \"responses\": \(responsesJson)}")
    }

    func approve(_ userCode: String) async throws {
        try await post("/admin/device/approve", "{\"user_code\": \"\(userCode)\"}")
    }

    func deny(_ userCode: String) async throws {
        try await post("/admin/device/deny", "{\"user_code\": \"\(userCode)\"}")
    }

    /// How many requests an endpoint has received since the last reset.
    func requests(_ endpoint: String) async throws -> Int {
        let (_, body, _) = try await send("GET", "/admin/stats")
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let counts = json?["requests"] as? [String: Any]
        return (counts?[endpoint] as? NSNumber)?.intValue ?? 0
    }

    /// One counter of `GET /admin/stats` (`refreshes`, `refresh_reuses`, `grants_revoked`, …).
    func stat(_ name: String) async throws -> Int {
        let (_, body, _) = try await send("GET", "/admin/stats")
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (json?[name] as? NSNumber)?.intValue ?? -1
    }

    /// The `grant_type` of each `/v2/token` request since the last reset, in order.
    func grantTypes() async throws -> [String] {
        let (_, body, _) = try await send("GET", "/admin/requests")
        let list = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]] ?? []
        return list.compactMap { request in
            let form = request["form"] as? [String: [String]]
            return form?["grant_type"]?.first
        }
    }

    /// A person signs in: `authorizationUrl` with PKCE, the authorize redirect (not followed),
    /// `exchangeCode`. The token carries a refresh token.
    func login(_ client: OAuthClient, scope: String = "openid offline_access") async throws -> Token {
        let redirect = "http://127.0.0.1/callback"
        let request = try client.authorizationUrl(redirectUri: redirect, scope: scope)
        let (status, _, location) = try await send("GET", request.url())
        guard status == 302, let location = location else {
            throw MockError.admin("the authorize endpoint answered \(status)")
        }
        let back = queryItems(location)
        guard back["state"] == request.state(), let code = back["code"] else {
            throw MockError.admin("the redirect carries no code or another state")
        }
        return try await client.exchangeCode(
            code: code, redirectUri: redirect, codeVerifier: request.codeVerifier())
    }

    @discardableResult
    func post(_ path: String, _ json: String) async throws -> String {
        let (status, body, _) = try await send("POST", path, body: json)
        guard (200..<300).contains(status) else {
            throw MockError.admin("POST \(path) answered \(status): \(body)")
        }
        return body
    }

    /// One request, redirects not followed: (status, body, Location header).
    func send(
        _ method: String, _ pathOrUrl: String, body: String? = nil, headers: [String: String] = [:]
    ) async throws -> (Int, String, String?) {
        let target = pathOrUrl.hasPrefix("http") ? pathOrUrl : url + pathOrUrl
        var request = URLRequest(url: URL(string: target)!)
        request.httpMethod = method
        if let body = body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers {
            request.setValue(value, forHTTPHeaderField: name)
        }
        let session = self.session
        return try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error = error {
                    continuation.resume(throwing: error)
                    return
                }
                guard let http = response as? HTTPURLResponse else {
                    continuation.resume(throwing: MockError.admin("no HTTP response for \(target)"))
                    return
                }
                let text = String(decoding: data ?? Data(), as: UTF8.self)
                let location = http.value(forHTTPHeaderField: "Location")
                continuation.resume(returning: (http.statusCode, text, location))
            }.resume()
        }
    }
}

enum MockError: Error {
    case admin(String)
}

/// Keeps 302 answers (the authorize endpoint's redirect) for the test to read.
final class NoRedirects: NSObject, URLSessionTaskDelegate {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// The query parameters of a URL.
func queryItems(_ url: String) -> [String: String] {
    var items: [String: String] = [:]
    for item in URLComponents(string: url)?.queryItems ?? [] {
        items[item.name] = item.value ?? ""
    }
    return items
}
