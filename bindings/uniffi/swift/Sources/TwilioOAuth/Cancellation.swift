// Written by hand (everything else in this folder is generated): Task cancellation for the
// async calls.
//
// The generated async functions do not observe Task cancellation, so they are generated under
// `…WithCancel` names with an explicit `CancellationToken`. The functions below carry the API's
// plain names: each passes a token to its `…WithCancel` twin and fires it from the calling
// Task's cancellation handler, so cancelling the Task drops the Rust future (and any request in
// flight) and the call throws `CancellationError`.

import Foundation

/// Runs `operation` with a token that fires when the current Task is cancelled. A call that
/// ended because of it throws `CancellationError`, as Swift code expects.
func withTaskCancellation<T>(
    _ operation: (CancellationToken) async throws -> T
) async throws -> T {
    let token = CancellationToken()
    do {
        return try await withTaskCancellationHandler {
            try await operation(token)
        } onCancel: {
            token.cancel()
        }
    } catch TwilioOAuthError.Cancelled where token.isCancelled() {
        throw CancellationError()
    }
}

extension OAuthClient {
    /// `POST /v1/token`: PascalCase form, HTTP Basic auth with `accountSid` and `authToken`.
    public func createToken(
        grantType: String,
        code: String? = nil,
        codeVerifier: String? = nil,
        deviceCode: String? = nil,
        deviceId: String? = nil,
        refreshToken: String? = nil
    ) async throws -> Token {
        try await withTaskCancellation { cancel in
            try await self.createTokenWithCancel(
                grantType: grantType,
                code: code,
                codeVerifier: codeVerifier,
                deviceCode: deviceCode,
                deviceId: deviceId,
                refreshToken: refreshToken,
                cancel: cancel
            )
        }
    }

    /// `POST /v1/device/code`: starts the device authorization flow.
    public func createDeviceCode(scopes: [String], audiences: [String] = []) async throws
        -> DeviceAuthorization
    {
        try await withTaskCancellation { cancel in
            try await self.createDeviceCodeWithCancel(
                scopes: scopes, audiences: audiences, cancel: cancel)
        }
    }

    /// `POST /v2/token` with any grant; unset options are not sent.
    public func createOauth2Token(
        grantType: String,
        code: String? = nil,
        redirectUri: String? = nil,
        audience: String? = nil,
        refreshToken: String? = nil,
        scope: String? = nil,
        codeVerifier: String? = nil,
        accountSid: String? = nil
    ) async throws -> Token {
        try await withTaskCancellation { cancel in
            try await self.createOauth2TokenWithCancel(
                grantType: grantType,
                code: code,
                redirectUri: redirectUri,
                audience: audience,
                refreshToken: refreshToken,
                scope: scope,
                codeVerifier: codeVerifier,
                accountSid: accountSid,
                cancel: cancel
            )
        }
    }

    /// A client-credentials token (needs `clientSecret`); `accountSid` acts on behalf of that
    /// account.
    public func clientCredentials(
        scope: String? = nil, audience: String? = nil, accountSid: String? = nil
    ) async throws -> Token {
        try await withTaskCancellation { cancel in
            try await self.clientCredentialsWithCancel(
                scope: scope, audience: audience, accountSid: accountSid, cancel: cancel)
        }
    }

    /// Exchanges an authorization code (with its PKCE verifier) for a token.
    public func exchangeCode(code: String, redirectUri: String? = nil, codeVerifier: String? = nil)
        async throws -> Token
    {
        try await withTaskCancellation { cancel in
            try await self.exchangeCodeWithCancel(
                code: code, redirectUri: redirectUri, codeVerifier: codeVerifier, cancel: cancel)
        }
    }

    /// Trades a refresh token for a new token.
    public func refresh(refreshToken: String) async throws -> Token {
        try await withTaskCancellation { cancel in
            try await self.refreshWithCancel(refreshToken: refreshToken, cancel: cancel)
        }
    }

    /// Polls for the device flow's token until the user approves (RFC 8628: honours the
    /// interval and `slow_down`). Cancel the Task to stop polling.
    public func pollDeviceToken(device: DeviceAuthorization) async throws -> Token {
        try await withTaskCancellation { cancel in
            try await self.pollDeviceTokenWithCancel(device: device, cancel: cancel)
        }
    }
}

extension TokenProvider {
    /// A token that is not about to expire: from the cache when possible, otherwise from one
    /// fetch shared by every concurrent caller.
    public func token() async throws -> Token {
        try await withTaskCancellation { cancel in
            try await self.tokenWithCancel(cancel: cancel)
        }
    }

    /// The access token itself (secret).
    public func accessToken() async throws -> String {
        try await withTaskCancellation { cancel in
            try await self.accessTokenWithCancel(cancel: cancel)
        }
    }

    /// `"Bearer <access token>"` (secret).
    public func authorizationHeader() async throws -> String {
        try await withTaskCancellation { cancel in
            try await self.authorizationHeaderWithCancel(cancel: cancel)
        }
    }

    /// A token other than `rejectedAccessToken`, which the API just refused with 401.
    public func tokenAfterUnauthorized(rejectedAccessToken: String) async throws -> Token {
        try await withTaskCancellation { cancel in
            try await self.tokenAfterUnauthorizedWithCancel(
                rejectedAccessToken: rejectedAccessToken, cancel: cancel)
        }
    }
}
