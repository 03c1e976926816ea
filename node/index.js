// @ts-check
'use strict'
// twilio-oauth for Node. The classes are the native addon's (bindings/node, napi-rs), and so
// are their types (native.d.ts, generated with the Rust doc comments). This file adds only
// what JavaScript alone can do:
// - the error classes, built from the core's list of kinds, and the one conversion of a native
//   error (which carries the core's error record) into the class of its kind;
// - `AbortSignal` wiring for the calls that take one;
// - the cache-hit path of `TokenProvider`, which keeps the current token's object and its
//   strings, so a hit costs one native call and converts nothing;
// - `util.inspect` forms, twilio-node's credential provider, and a JavaScript `TokenStore`
//   as the dispatcher the addon calls.

const util = require('node:util')
const native = require('./native.js')

const { OAuthClient, TokenProvider, Token, DeviceAuthorization, AuthorizationRequest, FileStore, RedisStore } = native

/** @typedef {import('./native').Token} TokenObject */
/** @typedef {import('./native').TokenProvider} Provider */
/**
 * The addon's functions that index.js alone uses (left out of native.d.ts).
 * @typedef {{
 *   errorKinds (): Array<[string, string | null]>,
 *   _panicForTest?: () => Promise<void>,
 *   _panicForTestSync?: () => void
 * }} Internal
 */
const internal = /** @type {Internal} */ (/** @type {unknown} */ (native))

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * The fields an error carries besides its message (the core's error record, camelCase).
 * @typedef {{ status?: number, code?: number, error?: string, serverMessage?: string,
 *   moreInfo?: string, retryAfter?: number, excerpt?: string, cause?: unknown }} ErrorFields
 */

/** The root of every error this package throws; `name` is the kind. */
class TwilioOAuthError extends Error {
  /**
   * @param {string} [message] the human text
   * @param {ErrorFields | null} [fields]
   */
  constructor (message, fields) {
    super(message, fields != null && fields.cause !== undefined ? { cause: fields.cause } : undefined)
    if (fields != null) {
      for (const [field, value] of Object.entries(fields)) {
        if (field !== 'cause' && value !== undefined && value !== null) {
          /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (this))[field] = value
        }
      }
    }
  }
}

/**
 * Every kind of the core as a class, each extending its parent (the core's `ERROR_KINDS`): a
 * kind the core adds is a class here without an edit.
 * @type {Record<string, typeof TwilioOAuthError>}
 */
const errorClasses = {}
for (const [name, parent] of internal.errorKinds()) {
  let cls = TwilioOAuthError
  if (parent !== null) {
    const base = errorClasses[parent]
    cls = { [name]: class extends base {} }[name]
  } else if (name !== TwilioOAuthError.name) {
    throw new Error(`twilio-oauth: the core's root error kind is ${name}`)
  }
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, enumerable: false, configurable: true })
  errorClasses[name] = cls
}
const { ConfigError, CancelledError } = errorClasses

// The property of a native error that holds the core's record (bindings/node/src/error.rs).
const recordKey = 'twilioOAuthError'
// napi's own argument-conversion failures (a string where a number belongs, …): bad input.
const badInputCodes = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected'
])

/**
 * Any error from the addon as the class of its kind.
 * @param {unknown} err
 * @returns {TwilioOAuthError}
 */
function toTwilioOAuthError (err) {
  if (err instanceof TwilioOAuthError) return err
  if (!(err instanceof Error)) return new TwilioOAuthError(String(err), { cause: err })
  const record = /** @type {{ [recordKey]?: ErrorFields & { kind: string, parent: string | null, message: string } }} */ (err)[recordKey]
  if (record !== undefined && record !== null) {
    const { kind, parent, message, ...fields } = record
    const cls = errorClasses[kind]
    // The classes are built from the core's own list of kinds: no record names another.
    if (cls === undefined || Object.getPrototypeOf(cls).name !== (parent ?? 'Error')) {
      throw new Error(`twilio-oauth: no class for the error kind ${kind} (of ${parent})`)
    }
    const converted = new cls(message, fields)
    Error.captureStackTrace(converted, toTwilioOAuthError)
    return converted
  }
  const code = /** @type {{ code?: unknown }} */ (err).code
  if (typeof code === 'string' && badInputCodes.has(code)) return new ConfigError(err.message)
  return new TwilioOAuthError(err.message, { cause: err })
}

/**
 * @param {(...args: any[]) => any} call
 * @returns {(...args: any[]) => any}
 */
function rethrowing (call) {
  return {
    /** @param {any[]} args */
    [call.name] (...args) {
      try {
        return call.apply(this, args)
      } catch (err) {
        throw toTwilioOAuthError(err)
      }
    }
  }[call.name]
}

// ---------------------------------------------------------------------------------------------
// AbortSignal: a call's options carry `signal`; the addon gets, in its place, an object on
// which it sets `cancel()`, called here when the signal aborts.

/**
 * Runs one native call that returns a promise; its last argument is the options object.
 * @param {object} self
 * @param {(...args: any[]) => Promise<any>} call
 * @param {any[]} args
 * @returns {Promise<any>}
 */
function callAsync (self, call, args) {
  const last = args.length - 1
  const options = last >= 0 ? args[last] : undefined
  const signal = options !== null && typeof options === 'object' && !Array.isArray(options) ? options.signal : undefined
  if (signal === undefined || signal === null) {
    try {
      return call.apply(self, args).catch(rejectWithClass)
    } catch (err) {
      return Promise.reject(toTwilioOAuthError(err))
    }
  }
  if (typeof signal !== 'object' || typeof signal.addEventListener !== 'function') {
    return Promise.reject(new ConfigError('signal must be an AbortSignal'))
  }
  if (signal.aborted) return Promise.reject(new CancelledError('cancelled', { cause: signal.reason }))
  /** @type {{ cancel?: () => void }} */
  const handle = {}
  const onAbort = () => handle.cancel?.()
  signal.addEventListener('abort', onAbort, { once: true })
  const withHandle = args.slice()
  withHandle[last] = { ...options, signal: handle }
  let promise
  try {
    promise = call.apply(self, withHandle)
  } catch (err) {
    promise = Promise.reject(err)
  }
  return promise.then(
    (value) => {
      signal.removeEventListener('abort', onAbort)
      return value
    },
    (err) => {
      signal.removeEventListener('abort', onAbort)
      const converted = toTwilioOAuthError(err)
      if (converted instanceof CancelledError && signal.aborted && converted.cause === undefined) {
        converted.cause = signal.reason
      }
      throw converted
    })
}

/**
 * @param {unknown} err
 * @returns {never}
 */
function rejectWithClass (err) {
  throw toTwilioOAuthError(err)
}

/**
 * @param {(...args: any[]) => Promise<any>} call
 * @returns {(...args: any[]) => Promise<any>}
 */
function cancellable (call) {
  return {
    /** @param {any[]} args */
    [call.name] (...args) { return callAsync(this, call, args) }
  }[call.name]
}

// ---------------------------------------------------------------------------------------------
// The error conversion (and AbortSignal, for the calls that take one) on every method: the
// addon's errors become the classes above wherever they come from.

/** The calls that take an `AbortSignal` (in their options, the last argument). */
const signalCalls = new Set([
  'createToken', 'createDeviceCode', 'createOauth2Token', 'createOAuth2Token', 'clientCredentials',
  'exchangeCode', 'refresh', 'pollDeviceToken', 'tokenAfterUnauthorized'
])

/**
 * @param {Record<string, unknown>} target a prototype or a class
 * @param {Set<string>} skip
 */
function guardMethods (target, skip = new Set()) {
  for (const name of Object.getOwnPropertyNames(target)) {
    const d = Object.getOwnPropertyDescriptor(target, name)
    if (d === undefined || typeof d.value !== 'function' || name === 'constructor' || skip.has(name)) continue
    if (name === 'prototype' || name === 'length' || name === 'name') continue
    const call = /** @type {(...args: any[]) => any} */ (d.value)
    const guarded = signalCalls.has(name) ? cancellable(call) : rethrowing(call)
    Object.defineProperty(target, name, { ...d, value: guarded })
  }
}

/**
 * The class with its constructor's errors converted too.
 * @template {new (...args: any[]) => object} C
 * @param {C} cls
 * @returns {C}
 */
function guardConstructor (cls) {
  return new Proxy(cls, {
    construct (target, args, newTarget) {
      try {
        return Reflect.construct(target, args, newTarget)
      } catch (err) {
        throw toTwilioOAuthError(err)
      }
    }
  })
}

// ---------------------------------------------------------------------------------------------
// TokenProvider's cache-hit path. The addon's `_hotPath()` gives two plain functions over the
// core's `try_token()` and `cached()`, answering 0 (no token), 1 (the token of the previous
// answer) or a new Token; the provider keeps that Token and its strings until the next one.

/** @typedef {() => 0 | 1 | TokenObject} Answer */

/** A provider's current token and its strings (private: never shown by `util.inspect`). */
class CacheHit {
  /** @type {Answer} */
  #tryToken
  /** @type {Answer} */
  #cached
  /** @type {TokenObject | null} */
  #token = null
  #accessToken = ''
  #header = ''

  /** @param {{ tryToken: Answer, cached: Answer }} functions */
  constructor (functions) {
    this.#tryToken = functions.tryToken
    this.#cached = functions.cached
  }

  /** @param {TokenObject} token */
  #adopt (token) {
    this.#accessToken = token.accessToken
    this.#header = token.authorizationHeader()
    this.#token = token
    return token
  }

  /**
   * The core's `try_token()`: true when the kept token may be handed out (a hit).
   * @param {unknown} options
   */
  hit (options) {
    if (options !== undefined && options !== null && /** @type {{ signal?: AbortSignal }} */ (options).signal?.aborted === true) return false
    const answer = this.#tryToken()
    if (answer === 1) return true
    if (answer === 0) return false
    this.#adopt(answer)
    return true
  }

  /** The core's `cached()`: the kept token, or null. */
  cached () {
    const answer = this.#cached()
    if (answer === 1) return this.#token
    if (answer === 0) return null
    return this.#adopt(answer)
  }

  /**
   * The token for a caller after a fetch: the provider's current one (kept), or the fetched
   * one when the cache has none to hand out any more.
   * @param {TokenObject} fetched
   */
  afterFetch (fetched) {
    return this.cached() ?? fetched
  }

  get token () { return /** @type {TokenObject} */ (this.#token) }

  /** @param {TokenObject} token */
  accessTokenOf (token) { return token === this.#token ? this.#accessToken : token.accessToken }

  /** @param {TokenObject} token */
  headerOf (token) { return token === this.#token ? this.#header : token.authorizationHeader() }

  get accessToken () { return this.#accessToken }
  get header () { return this.#header }
}

const hotKey = Symbol('twilio-oauth cache-hit path')

/**
 * @param {Provider} provider
 * @returns {CacheHit}
 */
function hotPath (provider) {
  const slot = /** @type {{ [hotKey]?: CacheHit }} */ (/** @type {unknown} */ (provider))
  let hot = slot[hotKey]
  if (hot === undefined) {
    const withHotPath = /** @type {{ _hotPath (): { tryToken: Answer, cached: Answer } }} */ (/** @type {unknown} */ (provider))
    hot = new CacheHit(withHotPath._hotPath())
    Object.defineProperty(provider, hotKey, { value: hot })
  }
  return hot
}

const nativeToken = TokenProvider.prototype.token
const nativeTokenAfterUnauthorized = TokenProvider.prototype.tokenAfterUnauthorized

/**
 * A method of TokenProvider's (writable, as the addon's are).
 * @param {Function} value
 */
function method (value) {
  return { value, writable: true, enumerable: true, configurable: true }
}

Object.defineProperties(TokenProvider.prototype, {
  token: method(/** @type {Provider['token']} @this {Provider} */ function token (options) {
    const hot = hotPath(this)
    try {
      if (hot.hit(options)) return Promise.resolve(hot.token)
    } catch (err) {
      return Promise.reject(toTwilioOAuthError(err))
    }
    return callAsync(this, nativeToken, [options]).then((t) => hot.afterFetch(t)).catch(rejectWithClass)
  }),
  accessToken: method(/** @type {Provider['accessToken']} @this {Provider} */ function accessToken (options) {
    const hot = hotPath(this)
    try {
      if (hot.hit(options)) return Promise.resolve(hot.accessToken)
    } catch (err) {
      return Promise.reject(toTwilioOAuthError(err))
    }
    return callAsync(this, nativeToken, [options]).then((t) => hot.accessTokenOf(hot.afterFetch(t))).catch(rejectWithClass)
  }),
  authorizationHeader: method(/** @type {Provider['authorizationHeader']} @this {Provider} */ function authorizationHeader (options) {
    const hot = hotPath(this)
    try {
      if (hot.hit(options)) return Promise.resolve(hot.header)
    } catch (err) {
      return Promise.reject(toTwilioOAuthError(err))
    }
    return callAsync(this, nativeToken, [options]).then((t) => hot.headerOf(hot.afterFetch(t))).catch(rejectWithClass)
  }),
  cachedToken: method(/** @type {Provider['cachedToken']} @this {Provider} */ function cachedToken () {
    try {
      return hotPath(this).cached()
    } catch (err) {
      throw toTwilioOAuthError(err)
    }
  }),
  tokenAfterUnauthorized: method(/** @type {Provider['tokenAfterUnauthorized']} @this {Provider} */ function tokenAfterUnauthorized (rejectedAccessToken, options) {
    const hot = hotPath(this)
    return callAsync(this, nativeTokenAfterUnauthorized, [rejectedAccessToken, options]).then((t) => hot.afterFetch(t)).catch(rejectWithClass)
  }),
  toTwilioCredentialProvider: method(
    /** A credential provider for twilio-node: `client.setCredentialProvider(…)`. @this {Provider} */
    function toTwilioCredentialProvider () {
      return twilioCredentialProvider(this)
    })
})

// ---------------------------------------------------------------------------------------------
// twilio-node's credential provider interface, without depending on twilio: when the `twilio`
// package is installed next to this one, the returned objects are real subclasses of its
// CredentialProvider and AuthStrategy.

/**
 * @typedef {abstract new (authType: string) => object} Base
 * @type {{ CredentialProviderBase: Base, AuthStrategyBase: Base } | undefined}
 */
let twilioBases
function loadTwilioBases () {
  if (twilioBases !== undefined) return twilioBases
  /** @type {Base} */
  let CredentialProviderBase = class CredentialProvider {
    /** @param {string} authType */
    constructor (authType) { this.authType = authType }
    getAuthType () { return this.authType }
  }
  /** @type {Base} */
  let AuthStrategyBase = class AuthStrategy {
    /** @param {string} authType */
    constructor (authType) { this.authType = authType }
    getAuthType () { return this.authType }
  }
  try {
    // Both are abstract with protected constructors, which subclasses may call.
    CredentialProviderBase = /** @type {Base} */ (require('twilio/lib/credential_provider/CredentialProvider').default)
    AuthStrategyBase = /** @type {Base} */ (require('twilio/lib/auth_strategy/AuthStrategy').default)
  } catch {
    // twilio is not installed: the stand-ins above have its interface.
  }
  twilioBases = { CredentialProviderBase, AuthStrategyBase }
  return twilioBases
}

/** @param {Provider} provider */
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
// A JavaScript TokenStore as the one async dispatcher the addon calls.

/**
 * @param {unknown} store
 * @returns {(op: string, key: string, token: TokenObject | null) => Promise<string | null>}
 */
function storeDispatcher (store) {
  const s = /** @type {import('./index').TokenStore} */ (store)
  if (s === null || typeof s !== 'object' || typeof s.load !== 'function' || typeof s.save !== 'function') {
    throw new ConfigError('store must be a FileStore, a RedisStore, or have load(key) and save(key, token) methods (and optionally delete(key))')
  }
  return async (op, key, token) => {
    switch (op) {
      case 'load': {
        const value = await s.load(key)
        if (value === undefined || value === null) return null
        if (value instanceof Token) return value.toJson()
        if (typeof value === 'string') return value
        throw new TypeError('TokenStore.load must return a Token, a string from token.toJson(), or null')
      }
      case 'save':
        if (token === null) throw new TypeError('TokenStore.save without a token')
        await s.save(key, token)
        return null
      case 'delete':
        if (typeof s.delete === 'function') await s.delete(key)
        return null
      default:
        throw new TypeError(`unknown TokenStore operation ${op}`)
    }
  }
}

const nativeTokenProvider = OAuthClient.prototype.tokenProvider
Object.defineProperty(OAuthClient.prototype, 'tokenProvider', {
  value: /** @type {import('./native').OAuthClient['tokenProvider']} */ function tokenProvider (options) {
    const store = options?.store
    if (store !== undefined && store !== null && !(store instanceof FileStore) && !(store instanceof RedisStore)) {
      options = { ...options, store: /** @type {any} */ (storeDispatcher(store)) }
    }
    return nativeTokenProvider.call(this, options)
  },
  writable: true,
  enumerable: true,
  configurable: true
})

// ---------------------------------------------------------------------------------------------
// The classes as exported.

const skipped = new Set(['token', 'accessToken', 'authorizationHeader', 'cachedToken', 'tokenAfterUnauthorized', 'toTwilioCredentialProvider', '_hotPath'])
for (const cls of [OAuthClient, TokenProvider, Token, DeviceAuthorization, AuthorizationRequest, FileStore, RedisStore]) {
  guardMethods(/** @type {any} */ (cls.prototype), skipped)
  guardMethods(/** @type {any} */ (cls))
  // `util.inspect` shows the redacted summary, as `JSON.stringify` does.
  Object.defineProperty(cls.prototype, util.inspect.custom, {
    /**
     * @param {number} depth
     * @param {util.InspectOptionsStylized} options
     * @param {typeof util.inspect} inspect
     */
    value (depth, options, inspect) {
      return `${cls.name} ${(inspect ?? util.inspect)(this.toJSON(), options)}`
    }
  })
}

module.exports = {
  OAuthClient: guardConstructor(OAuthClient),
  TokenProvider,
  Token,
  DeviceAuthorization,
  AuthorizationRequest,
  FileStore: guardConstructor(FileStore),
  RedisStore: guardConstructor(RedisStore),
  DEVICE_CODE_GRANT: native.DEVICE_CODE_GRANT,
  ...errorClasses
}

// Only in builds with the `test-hooks` feature (the package's own tests): calls that panic
// inside the core, which must fail with a TwilioOAuthError.
if (internal._panicForTest !== undefined && internal._panicForTestSync !== undefined) {
  Object.assign(module.exports, {
    _panicForTest: cancellable(internal._panicForTest),
    _panicForTestSync: rethrowing(internal._panicForTestSync)
  })
}
