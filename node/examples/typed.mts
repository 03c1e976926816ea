// A typed tour of the API, checked with `tsc --noEmit --strict` (npm run typecheck); not run.
import twilio from 'twilio'
import {
  ApiError,
  CancelledError,
  FileStore,
  LoginRequiredError,
  OAuthClient,
  RateLimitedError,
  RedisStore,
  Token,
  TwilioOAuthError,
  type DeviceAuthorization,
  type GrantKind,
  type ProviderStats,
  type TokenStore
} from 'twilio-oauth'

export async function tour (baseUrl: string): Promise<void> {
  const client = new OAuthClient({
    clientId: 'OQ0123456789abcdef0123456789abcdef',
    clientSecret: 'secret',
    accountSid: 'AC0123456789abcdef0123456789abcdef',
    authToken: 'token',
    baseUrl,
    timeout: 10,
    maxRetries: 2
  })
  const fromEnv: OAuthClient = OAuthClient.fromEnv()
  void fromEnv

  const token: Token = await client.clientCredentials({ scope: 'a b', audience: 'x' })
  const expiresAt: Date = token.expiresAt
  const left: number = token.expiresIn()
  const claims: Record<string, unknown> = token.claims()
  const refresh: string | undefined = token.refreshToken
  void [expiresAt, left, claims, refresh, token.isExpired(), token.authorizationHeader()]

  await client.createToken('client_credentials', { deviceId: 'd' })
  await client.createOauth2Token('client_credentials', { scope: 's' })
  await client.createOAuth2Token('client_credentials')
  const request = client.authorizationUrl('myapp://callback', { scope: 'openid offline_access' })
  const exchanged = await client.exchangeCode('code', { redirectUri: 'myapp://callback', codeVerifier: request.codeVerifier })
  if (exchanged.refreshToken !== undefined) await client.refresh(exchanged.refreshToken)

  const device: DeviceAuthorization = await client.createDeviceCode(['offline_access'], { audiences: ['a'] })
  const userCode: string = device.userCode
  void userCode
  const controller = new AbortController()
  try {
    await client.pollDeviceToken(device, { signal: controller.signal })
  } catch (err) {
    if (err instanceof CancelledError) return
    if (err instanceof RateLimitedError) console.log(err.retryAfter)
    if (err instanceof ApiError) console.log(err.status, err.code, err.error, err.serverMessage, err.moreInfo)
    if (err instanceof TwilioOAuthError) console.log(err.name)
  }

  const memory = new Map<string, string>()
  const store: TokenStore = {
    load: (key) => memory.get(key) ?? null,
    save: async (key, t) => { memory.set(key, t.toJson()) },
    delete: (key) => { memory.delete(key) }
  }
  const provider = client.tokenProvider({ scope: 'x', store, refreshAhead: 60, expiryMargin: 5 })
  const cached: Token | null = provider.cachedToken()
  const access: string = await provider.accessToken()
  const header: string = await provider.authorizationHeader({ signal: controller.signal })
  const stats: ProviderStats = provider.stats()
  void [cached, access, header, stats, (await provider.token()).accessToken]
  provider.invalidate()

  client.tokenProvider({ store: new FileStore('/tmp/tokens.json'), initialToken: Token.fromAccessToken('a', 60) })
  const handed: Token = Token.fromAccessToken('a', { expiresIn: 60, refreshToken: 'r' })
  const copy: Token = Token.fromJson(handed.toJson())
  const fleet = new RedisStore('redis://127.0.0.1:6379/0', { keyPrefix: 'app:', encryptionKey: new Uint8Array(32) })
  const fleetProvider = client.tokenProvider({ store: fleet, initialToken: copy })
  const encrypted: boolean = fleet.encrypted
  void [encrypted, fleetProvider.stats().storeErrors, new RedisStore('redis://127.0.0.1:6379/0', { encryptionKey: 'base64…' })]
  const onBehalf = await client.clientCredentials({ accountSid: 'AC0123456789abcdef0123456789abcdef' })
  void onBehalf.issuedAt.getTime()
  const person = client.tokenProvider({ store: new FileStore('/tmp/tokens.json'), account: 'alice', grant: 'user' })
  const grant: GrantKind = person.grant
  const { storeHits, storeErrors } = person.stats()
  void [grant, storeHits, storeErrors]
  try {
    const t = await person.token()
    const subject: string | undefined = t.subject
    void subject
  } catch (err) {
    if (err instanceof LoginRequiredError) console.log('sign in again:', err.status, err.code, err.error)
  }

  const api = twilio()
  api.setCredentialProvider(provider.toTwilioCredentialProvider())
  const account = await api.api.v2010.accounts('AC0123456789abcdef0123456789abcdef').fetch()
  console.log(account.friendlyName)
}
