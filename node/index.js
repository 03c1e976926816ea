'use strict'
// twilio-oauth for Node: the JavaScript layer over the native addon (native.js).
//
// It converts and nothing else: camelCase options objects in, wrapper classes out, one
// `AbortSignal` wiring for every network call, native errors rethrown as the exported error
// classes, and redacted `util.inspect` / `String()` / `JSON.stringify` forms. Every decision
// about tokens (caching, single-flight, refresh-ahead, retries, polling) is the Rust core's.

const util = require('node:util')
const native = require('./native.js')

const inspectSymbol = util.inspect.custom

// ---------------------------------------------------------------------------------------------
// Errors: one tree, converted in one place (`toTwilioOAuthError`).

/** The root of every error this package throws. */
class TwilioOAuthError extends Error {
  constructor (message, options) {
    super(message, options)
    if (options !== undefined && options !== null) {
      for (const field of ['status', 'code', 'error', 'moreInfo', 'retryAfter', 'excerpt']) {
        if (options[field] !== undefined) this[field] = options[field]
      }
    }
  }
}

/** The server answered with an error body. */
class ApiError extends TwilioOAuthError {
  constructor (message, options = {}) {
    super(message, options)
    this.status = options.status
    this.code = options.code ?? undefined
    this.error = options.error ?? undefined
    this.moreInfo = options.moreInfo ?? undefined
    this.retryAfter = options.retryAfter ?? undefined
  }
}
/** 429 after all retries; `retryAfter` says how long the server asked to wait (seconds). */
class RateLimitedError extends ApiError {}
/**
 * A person's login can no longer be refreshed (refused or reused refresh token, revoked
 * grant, ended session, or no refresh token at all): sign them in again. A user provider
 * never falls back to an app token. Carries the server's answer like any `ApiError`.
 */
class LoginRequiredError extends ApiError {}
/** Bad options, or a value of the wrong type. */
class ConfigError extends TwilioOAuthError {}
/** Device flow: the user refused. */
class AccessDeniedError extends TwilioOAuthError {}
/** Device flow: the device code expired. */
class ExpiredTokenError extends TwilioOAuthError {}
/** Connect, TLS, reset or protocol failure. */
class TransportError extends TwilioOAuthError {}
/** The request did not complete within the timeout. */
class TimeoutError extends TwilioOAuthError {}
/** A 2xx answer whose body is not a usable token (`status`, `excerpt`). */
class InvalidResponseError extends TwilioOAuthError {}
/** The caller cancelled (an `AbortSignal` aborted). */
class CancelledError extends TwilioOAuthError {}
/** A token store failed. */
class StoreError extends TwilioOAuthError {}

const errorClasses = {
  TwilioOAuthError,
  ApiError,
  RateLimitedError,
  LoginRequiredError,
  ConfigError,
  AccessDeniedError,
  ExpiredTokenError,
  TransportError,
  TimeoutError,
  InvalidResponseError,
  CancelledError,
  StoreError
}
for (const [name, cls] of Object.entries(errorClasses)) {
  Object.defineProperty(cls.prototype, 'name', {
    value: name,
    writable: true,
    enumerable: false,
    configurable: true
  })
}

// The native layer's error messages are JSON objects with this key, naming the kind (see
// bindings/node/src/error.rs).
const payloadKey = 'twilioOAuthError'
// napi's own argument-conversion failures (a string where a number belongs, …): bad input.
const badInputCodes = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected'
])

/** Any error from the native layer as the matching exported class. */
function toTwilioOAuthError (err) {
  if (err instanceof TwilioOAuthError) return err
  const message = err !== null && typeof err === 'object' && typeof err.message === 'string'
    ? err.message
    : String(err)
  if (message.startsWith('{')) {
    let payload = null
    try {
      payload = JSON.parse(message)
    } catch {}
    if (payload !== null && typeof payload === 'object' && typeof payload[payloadKey] === 'string') {
      const cls = errorClasses[payload[payloadKey]] ?? TwilioOAuthError
      const fields = {}
      for (const [k, v] of Object.entries(payload)) {
        if (k !== payloadKey && k !== 'message' && v !== null) fields[k] = v
      }
      const converted = new cls(payload.message, fields)
      Error.captureStackTrace(converted, toTwilioOAuthError)
      return converted
    }
  }
  if (err !== null && typeof err === 'object' && badInputCodes.has(err.code)) {
    return new ConfigError(message)
  }
  return new TwilioOAuthError(message, { cause: err })
}

function callSync (fn) {
  try {
    return fn()
  } catch (err) {
    throw toTwilioOAuthError(err)
  }
}

function checkSignal (signal) {
  if (signal !== undefined && signal !== null &&
      (typeof signal !== 'object' || typeof signal.addEventListener !== 'function')) {
    throw new ConfigError('signal must be an AbortSignal')
  }
}

// Runs one native call that returns a promise. With a signal, a native cancel handle is
// created and fired on abort: the core drops the call and the promise rejects with
// CancelledError.
async function callAsync (signal, start) {
  if (signal === undefined || signal === null) {
    try {
      return await start(null)
    } catch (err) {
      throw toTwilioOAuthError(err)
    }
  }
  checkSignal(signal)
  if (signal.aborted) throw new CancelledError('cancelled', { cause: signal.reason })
  const handle = new native.CancelHandle()
  const onAbort = () => handle.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await start(handle)
  } catch (err) {
    const converted = toTwilioOAuthError(err)
    if (converted instanceof CancelledError && signal.aborted && converted.cause === undefined) {
      converted.cause = signal.reason
    }
    throw converted
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function optionsObject (options, what) {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object') throw new ConfigError(`${what} options must be an object`)
  return options
}

// ---------------------------------------------------------------------------------------------
// Objects

let nativeOfToken
let nativeOfDevice
const tokenGuard = Symbol('twilio-oauth token')

/** An access token with its companions and its expiry. Never shows a secret in full. */
class Token {
  #n

  /** @internal Tokens come from the client, the provider or `Token.fromAccessToken`. */
  constructor (guard, nativeToken) {
    if (guard !== tokenGuard) {
      throw new ConfigError('use Token.fromAccessToken() or Token.deserialize() to make a Token')
    }
    this.#n = nativeToken
  }

  static {
    nativeOfToken = (t) => t.#n
  }

  /** A token obtained elsewhere, valid for `expiresIn` seconds from now. */
  static fromAccessToken (accessToken, expiresIn) {
    return new Token(tokenGuard, callSync(() => native.NativeToken.fromAccessToken(accessToken, expiresIn)))
  }

  /** Reads a token written by `token.serialize()` (for token stores). */
  static deserialize (json) {
    return new Token(tokenGuard, callSync(() => native.NativeToken.deserialize(json)))
  }

  get accessToken () { return this.#n.accessToken }
  get tokenType () { return this.#n.tokenType }
  get refreshToken () { return this.#n.refreshToken ?? undefined }
  get idToken () { return this.#n.idToken ?? undefined }
  get scope () { return this.#n.scope ?? undefined }
  /** When the token expires (wall clock). */
  get expiresAt () { return new Date(this.#n.expiresAtMs) }
  /** When the token was issued (the JWT `iat`, else when it arrived). */
  get issuedAt () { return new Date(this.#n.issuedAtMs) }
  /** Whose token it is: the access token's JWT `sub`, else the id token's; else undefined. */
  get subject () { return this.#n.subject ?? undefined }
  /** The lifetime the token had when received, in seconds. */
  get lifetime () { return this.#n.lifetime }
  /** Seconds left before expiry (0 once expired). */
  expiresIn () { return this.#n.expiresIn() }
  isExpired () { return this.#n.isExpired() }
  /** The access token's JWT claims, unverified; `{}` when it is not a JWT. */
  claims () { return this.#n.claims() }
  /** `"Bearer <access token>"`. */
  authorizationHeader () { return this.#n.authorizationHeader() }
  /** The whole token, secrets included, as JSON for a token store. Keep it secret. */
  serialize () { return this.#n.serialize() }

  /** `Bearer eyJhbGci…(812 chars) (expires in 3599s)` */
  toString () { return this.#n.display() }

  toJSON () {
    const out = { tokenType: this.tokenType, accessToken: this.#n.accessTokenPreview }
    if (this.#n.refreshToken != null) out.refreshToken = '[redacted]'
    if (this.#n.idToken != null) out.idToken = '[redacted]'
    if (this.#n.scope != null) out.scope = this.#n.scope
    out.expiresAt = this.expiresAt.toISOString()
    return out
  }

  [inspectSymbol] (depth, options, inspect) {
    return `Token ${(inspect ?? util.inspect)(this.toJSON(), options)}`
  }
}

/** The answer of the device-code request: what to show the user. `deviceCode` is secret. */
class DeviceAuthorization {
  #n

  /** @internal */
  constructor (guard, nativeDevice) {
    if (guard !== tokenGuard) throw new ConfigError('use client.createDeviceCode()')
    this.#n = nativeDevice
  }

  static {
    nativeOfDevice = (d) => d.#n
  }

  get deviceCode () { return this.#n.deviceCode }
  get userCode () { return this.#n.userCode }
  get verificationUri () { return this.#n.verificationUri }
  get verificationUriComplete () { return this.#n.verificationUriComplete ?? undefined }
  /** Minimum seconds between polls. */
  get interval () { return this.#n.interval }
  get expiresAt () { return new Date(this.#n.expiresAtMs) }
  /** Seconds left before the codes expire. */
  expiresIn () { return this.#n.expiresIn() }

  toString () {
    return `Open ${this.verificationUri} and enter ${this.userCode}`
  }

  toJSON () {
    const out = { userCode: this.userCode, verificationUri: this.verificationUri }
    if (this.#n.verificationUriComplete != null) out.verificationUriComplete = this.#n.verificationUriComplete
    out.interval = this.interval
    out.expiresAt = this.expiresAt.toISOString()
    out.deviceCode = this.#n.deviceCodePreview
    return out
  }

  [inspectSymbol] (depth, options, inspect) {
    return `DeviceAuthorization ${(inspect ?? util.inspect)(this.toJSON(), options)}`
  }
}

/** What `authorizationUrl` returns. `codeVerifier` is secret: keep it for `exchangeCode`. */
class AuthorizationRequest {
  #codeVerifier

  /** @internal */
  constructor (guard, request) {
    if (guard !== tokenGuard) throw new ConfigError('use client.authorizationUrl()')
    this.url = request.url
    this.state = request.state
    this.#codeVerifier = request.codeVerifier
  }

  get codeVerifier () { return this.#codeVerifier }

  toJSON () {
    return { url: this.url, state: this.state, codeVerifier: '[redacted]' }
  }

  toString () { return this.url }

  [inspectSymbol] (depth, options, inspect) {
    return `AuthorizationRequest ${(inspect ?? util.inspect)(this.toJSON(), options)}`
  }
}

/** Keeps tokens in a JSON file (mode 0600, replaced atomically). */
class FileStore {
  constructor (path) {
    if (typeof path !== 'string' || path.length === 0) throw new ConfigError('FileStore needs a path')
    this.path = path
  }
}

// A JavaScript TokenStore as the one async dispatcher the native layer calls.
function storeDispatcher (store) {
  if (store === null || typeof store !== 'object' ||
      typeof store.load !== 'function' || typeof store.save !== 'function') {
    throw new ConfigError('store must have load(key) and save(key, token) methods (and optionally delete(key))')
  }
  return async (op, key, nativeToken) => {
    switch (op) {
      case 'load': {
        const value = await store.load(key)
        if (value === undefined || value === null) return null
        if (value instanceof Token) return value.serialize()
        if (typeof value === 'string') return value
        throw new TypeError('TokenStore.load must return a Token, a string from token.serialize(), or null')
      }
      case 'save':
        await store.save(key, new Token(tokenGuard, nativeToken))
        return null
      case 'delete':
        if (typeof store.delete === 'function') await store.delete(key)
        return null
      default:
        throw new TypeError(`unknown TokenStore operation ${op}`)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// twilio-node's credential provider interface, without depending on twilio: when the `twilio`
// package is installed next to this one, the returned objects are real subclasses of its
// CredentialProvider and AuthStrategy.

let twilioBases
function loadTwilioBases () {
  if (twilioBases !== undefined) return twilioBases
  let CredentialProviderBase = class CredentialProvider {
    constructor (authType) { this.authType = authType }
    getAuthType () { return this.authType }
  }
  let AuthStrategyBase = class AuthStrategy {
    constructor (authType) { this.authType = authType }
    getAuthType () { return this.authType }
  }
  try {
    CredentialProviderBase = require('twilio/lib/credential_provider/CredentialProvider').default
    AuthStrategyBase = require('twilio/lib/auth_strategy/AuthStrategy').default
  } catch {}
  twilioBases = { CredentialProviderBase, AuthStrategyBase }
  return twilioBases
}

function twilioCredentialProvider (provider) {
  const { CredentialProviderBase, AuthStrategyBase } = loadTwilioBases()
  class TwilioOAuthAuthStrategy extends AuthStrategyBase {
    constructor () { super('token') }
    getAuthString () { return provider.authorizationHeader() }
    requiresAuthentication () { return true }
  }
  class TwilioOAuthCredentialProvider extends CredentialProviderBase {
    #strategy = new TwilioOAuthAuthStrategy()
    constructor () { super('client-credentials') }
    toAuthStrategy () { return this.#strategy }
  }
  return new TwilioOAuthCredentialProvider()
}

// ---------------------------------------------------------------------------------------------
// TokenProvider

/** The cached token that API calls use. */
class TokenProvider {
  #n
  // The core's try_token / cached as plain native functions (see NativeProvider.hotPath).
  #tryTokenId
  #cachedId
  // The wrapper of the core's current token, and its strings, so that a cache hit costs one
  // native call (the core's try_token) and no allocation.
  #id = 0
  #token = null
  #accessToken = ''
  #header = ''

  /** @internal */
  constructor (guard, nativeProvider) {
    if (guard !== tokenGuard) throw new ConfigError('use client.tokenProvider()')
    this.#n = nativeProvider
    const hot = nativeProvider.hotPath()
    this.#tryTokenId = hot.tryTokenId
    this.#cachedId = hot.cachedId
  }

  #adopt (nativeToken) {
    const id = nativeToken.id
    if (id !== this.#id) {
      this.#token = new Token(tokenGuard, nativeToken)
      this.#accessToken = nativeToken.accessToken
      this.#header = nativeToken.authorizationHeader()
      this.#id = id
    }
    return this.#token
  }

  // The core's try_token on this thread: true when #token may be handed out.
  #hit () {
    const id = this.#tryTokenId()
    if (id === 0) return false
    if (id !== this.#id) {
      const nativeToken = this.#n.cached()
      if (nativeToken === null) return false
      this.#adopt(nativeToken)
    }
    return true
  }

  async #fetch (options) {
    const { signal } = optionsObject(options, 'token')
    return this.#adopt(await callAsync(signal, (h) => this.#n.token(h)))
  }

  #fast (options) {
    if (options !== undefined && options !== null && options.signal?.aborted) return false
    return this.#hit()
  }

  /** The key under which the token is cached and stored. */
  get key () { return this.#n.key }

  /** `'app'` (client credentials) or `'user'` (a person's token; never an app token). */
  get grant () { return this.#n.grant }

  /** A fresh token: from the cache when possible, else one fetch shared by every caller. */
  token (options) {
    try {
      if (this.#fast(options)) return Promise.resolve(this.#token)
    } catch (err) {
      return Promise.reject(toTwilioOAuthError(err))
    }
    return this.#fetch(options)
  }

  /** The access token string. */
  accessToken (options) {
    try {
      if (this.#fast(options)) return Promise.resolve(this.#accessToken)
    } catch (err) {
      return Promise.reject(toTwilioOAuthError(err))
    }
    return this.#fetch(options).then(() => this.#accessToken)
  }

  /** `"Bearer <access token>"`. */
  authorizationHeader (options) {
    try {
      if (this.#fast(options)) return Promise.resolve(this.#header)
    } catch (err) {
      return Promise.reject(toTwilioOAuthError(err))
    }
    return this.#fetch(options).then(() => this.#header)
  }

  /** The cached token if it may be handed out, else `null`. Synchronous; no I/O. */
  cachedToken () {
    let id
    try {
      id = this.#cachedId()
    } catch (err) {
      throw toTwilioOAuthError(err)
    }
    if (id === 0) return null
    if (id === this.#id) return this.#token
    const nativeToken = callSync(() => this.#n.cached())
    return nativeToken === null ? null : this.#adopt(nativeToken)
  }

  /** A token other than `rejectedAccessToken`, which the API just refused (401). */
  async tokenAfterUnauthorized (rejectedAccessToken, options) {
    const { signal } = optionsObject(options, 'tokenAfterUnauthorized')
    return this.#adopt(await callAsync(signal, (h) => this.#n.tokenAfterUnauthorized(rejectedAccessToken, h)))
  }

  /** Drops the cached token (call it after a 401 from the API). */
  invalidate () {
    callSync(() => this.#n.invalidate())
  }

  /** `{ hits, fetches, backgroundRefreshes, failures, storeHits, storeErrors }`. */
  stats () {
    return callSync(() => this.#n.stats())
  }

  /** A credential provider for twilio-node: `client.setCredentialProvider(…)`. */
  toTwilioCredentialProvider () {
    return twilioCredentialProvider(this)
  }

  [inspectSymbol] (depth, options, inspect) {
    return `TokenProvider ${(inspect ?? util.inspect)({ key: this.key, grant: this.grant, cached: this.cachedToken() ?? undefined, stats: this.stats() }, options)}`
  }
}

// ---------------------------------------------------------------------------------------------
// OAuthClient

function pick (source, keys) {
  const out = {}
  for (const k of keys) {
    if (source[k] !== undefined) out[k] = source[k]
  }
  return out
}

const clientKeys = ['clientId', 'clientSecret', 'accountSid', 'authToken', 'baseUrl', 'timeout', 'maxRetries']
const v1Keys = ['code', 'codeVerifier', 'deviceCode', 'deviceId', 'refreshToken']
const v2Keys = ['code', 'redirectUri', 'audience', 'refreshToken', 'scope', 'codeVerifier', 'accountSid']
const providerKeys = ['scope', 'audience', 'refreshAhead', 'expiryMargin', 'accountSid', 'account', 'grant']

/** Configuration plus the raw OAuth endpoint calls. */
class OAuthClient {
  #n

  /**
   * Options not given are read from TWILIO_CLIENT_ID, TWILIO_CLIENT_SECRET,
   * TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.
   */
  constructor (options) {
    const o = pick(optionsObject(options, 'OAuthClient'), clientKeys)
    this.#n = callSync(() => new native.NativeClient(o))
  }

  /** A client configured from the TWILIO_* environment variables (plus any options given). */
  static fromEnv (options) {
    return new OAuthClient(options)
  }

  get clientId () { return this.#n.clientId }
  get baseUrl () { return this.#n.baseUrl }
  get hasClientSecret () { return this.#n.hasClientSecret }

  /** `POST /v1/token`. */
  async createToken (grantType, options) {
    const o = optionsObject(options, 'createToken')
    const nativeToken = await callAsync(o.signal, (h) => this.#n.createToken(grantType, pick(o, v1Keys), h))
    return new Token(tokenGuard, nativeToken)
  }

  /** `POST /v1/device/code`. */
  async createDeviceCode (scopes, options) {
    const o = optionsObject(options, 'createDeviceCode')
    const list = typeof scopes === 'string' ? [scopes] : scopes
    const audiences = typeof o.audiences === 'string' ? [o.audiences] : o.audiences
    const nativeDevice = await callAsync(o.signal, (h) => this.#n.createDeviceCode(list, audiences, h))
    return new DeviceAuthorization(tokenGuard, nativeDevice)
  }

  /** `POST /v2/token`. */
  async createOauth2Token (grantType, options) {
    const o = optionsObject(options, 'createOauth2Token')
    const nativeToken = await callAsync(o.signal, (h) => this.#n.createOauth2Token(grantType, pick(o, v2Keys), h))
    return new Token(tokenGuard, nativeToken)
  }

  /** Same as `createOauth2Token`. */
  createOAuth2Token (grantType, options) {
    return this.createOauth2Token(grantType, options)
  }

  /** A client-credentials token; `accountSid` acts on behalf of that account. */
  async clientCredentials (options) {
    const o = optionsObject(options, 'clientCredentials')
    const nativeToken = await callAsync(o.signal, (h) => this.#n.clientCredentials(o.scope, o.audience, o.accountSid, h))
    return new Token(tokenGuard, nativeToken)
  }

  /** Exchanges an authorization code (with its PKCE verifier). */
  async exchangeCode (code, options) {
    const o = optionsObject(options, 'exchangeCode')
    const nativeToken = await callAsync(o.signal, (h) => this.#n.exchangeCode(code, o.redirectUri, o.codeVerifier, h))
    return new Token(tokenGuard, nativeToken)
  }

  /** Trades a refresh token for a new token. */
  async refresh (refreshToken, options) {
    const o = optionsObject(options, 'refresh')
    const nativeToken = await callAsync(o.signal, (h) => this.#n.refresh(refreshToken, h))
    return new Token(tokenGuard, nativeToken)
  }

  /** Builds the `/v2/authorize` URL with PKCE (no request). */
  authorizationUrl (redirectUri, options) {
    const o = optionsObject(options, 'authorizationUrl')
    const request = callSync(() => this.#n.authorizationUrl(redirectUri, o.scope, o.state))
    return new AuthorizationRequest(tokenGuard, request)
  }

  /** Polls for the device flow's token until the user decides; `{ signal }` cancels. */
  async pollDeviceToken (device, options) {
    if (!(device instanceof DeviceAuthorization)) {
      throw new ConfigError('pollDeviceToken needs the DeviceAuthorization from createDeviceCode()')
    }
    const o = optionsObject(options, 'pollDeviceToken')
    const nativeToken = await callAsync(o.signal, (h) => this.#n.pollDeviceToken(nativeOfDevice(device), h))
    return new Token(tokenGuard, nativeToken)
  }

  /**
   * A cached token source for API calls. Durations in seconds. With `initialToken` or
   * `account` it holds a person's token (`grant: 'user'`), renewed with its refresh token and
   * never replaced by an app token; else the app's own (client credentials).
   */
  tokenProvider (options) {
    const o = optionsObject(options, 'tokenProvider')
    const nativeOptions = pick(o, providerKeys)
    let dispatcher = null
    if (o.store instanceof FileStore) {
      nativeOptions.fileStorePath = o.store.path
    } else if (o.store !== undefined && o.store !== null) {
      dispatcher = storeDispatcher(o.store)
    }
    let initial = null
    if (o.initialToken !== undefined && o.initialToken !== null) {
      if (!(o.initialToken instanceof Token)) throw new ConfigError('initialToken must be a Token')
      initial = nativeOfToken(o.initialToken)
    }
    const nativeProvider = callSync(() => this.#n.tokenProvider(nativeOptions, dispatcher, initial))
    return new TokenProvider(tokenGuard, nativeProvider)
  }

  [inspectSymbol] (depth, options, inspect) {
    return `OAuthClient ${(inspect ?? util.inspect)({ clientId: this.clientId, baseUrl: this.baseUrl }, options)}`
  }
}

module.exports = {
  OAuthClient,
  TokenProvider,
  Token,
  DeviceAuthorization,
  AuthorizationRequest,
  FileStore,
  DEVICE_CODE_GRANT: 'urn:ietf:params:oauth:grant-type:device_code',
  ...errorClasses
}

// Only in builds with the `test-hooks` feature (the package's own tests): a call that panics
// inside the core, whose promise must reject with a TwilioOAuthError.
if (typeof native._panicForTest === 'function') {
  module.exports._panicForTest = () => callAsync(null, () => native._panicForTest())
}
