// The mock Twilio OAuth server (crate twilio-oauth-mock) as a test fixture: built with cargo,
// started on a free port, stopped when the test file ends.
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const CLIENT_ID = 'OQ0123456789abcdef0123456789abcdef'
export const CLIENT_SECRET = 'mock-client-secret-0123456789'
export const PUBLIC_CLIENT_ID = 'OQfedcba9876543210fedcba9876543210'
export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef'
export const AUTH_TOKEN = 'mock-auth-token-0123456789abcdef'

/** The mock server binary: $TWILIO_OAUTH_MOCK_BIN, or built with cargo. */
export function mockBinary () {
  if (process.env.TWILIO_OAUTH_MOCK_BIN) return process.env.TWILIO_OAUTH_MOCK_BIN
  const built = spawnSync('cargo', ['build', '--quiet', '-p', 'twilio-oauth-mock'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit']
  })
  if (built.status !== 0) throw new Error('cargo build -p twilio-oauth-mock failed')
  const targetDir = process.env.CARGO_TARGET_DIR
    ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : join(repoRoot, 'target')
  const bin = join(targetDir, 'debug', 'twilio-oauth-mock')
  if (!existsSync(bin)) throw new Error(`no mock server binary at ${bin}`)
  return bin
}

/** Starts the mock server; resolves to a handle with its URL and admin helpers. */
export async function startMock () {
  const child = spawn(mockBinary(), ['--host', '127.0.0.1', '--port', '0', '--exit-on-stdin-eof'], {
    stdio: ['pipe', 'pipe', 'ignore']
  })
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`mock server exited with ${code}`)))
    lines.once('line', (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line.trim())
      if (m) resolve(m[1])
      else reject(new Error(`unexpected first line from the mock server: ${line}`))
    })
  })
  return new Mock(child, url)
}

export class Mock {
  constructor (child, url) {
    this.child = child
    this.url = url
  }

  async admin (method, path, body) {
    const res = await fetch(this.url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`)
    return text.length > 0 ? JSON.parse(text) : null
  }

  reset () { return this.admin('POST', '/admin/reset') }
  config (patch) { return this.admin('POST', '/admin/config', patch) }
  faults (endpoint, responses) { return this.admin('POST', '/admin/faults', { endpoint, responses }) }
  stats () { return this.admin('GET', '/admin/stats') }
  approve (userCode) { return this.admin('POST', '/admin/device/approve', { user_code: userCode }) }
  deny (userCode) { return this.admin('POST', '/admin/device/deny', { user_code: userCode }) }
  async requests (path) {
    const stats = await this.stats()
    return stats.requests[path] ?? 0
  }

  /** Stops the server: closing its stdin makes it exit. */
  stop () {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve()
      this.child.once('exit', () => resolve())
      this.child.stdin.end()
    })
  }
}

/** Options of a confidential client (secret and v1 credentials) against `mock`. */
export function clientOptions (mock, extra = {}) {
  return {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    baseUrl: mock.url,
    ...extra
  }
}

/** Starts one mock server for the calling test file, reset before each test. */
export function useMock (t) {
  const holder = {}
  t.before(async () => { holder.mock = await startMock() })
  t.beforeEach(async () => { await holder.mock.reset() })
  t.after(async () => { await holder.mock?.stop() })
  return () => holder.mock
}

/**
 * A person's login through the mock's auto-approving `/v2/authorize` (the scenarios'
 * `pkce_flow` with the right verifier): a token with a refresh token and an id token.
 */
export async function pkceLogin (client, { scope = 'openid offline_access', redirectUri = 'http://127.0.0.1/callback' } = {}) {
  const request = client.authorizationUrl(redirectUri, { scope })
  const res = await fetch(request.url, { redirect: 'manual' })
  await res.arrayBuffer()
  const location = res.headers.get('location')
  if (location === null) throw new Error(`GET /v2/authorize answered ${res.status} without a Location`)
  const query = new URL(location).searchParams
  if (query.get('state') !== request.state) throw new Error('the redirect did not carry our state back')
  return client.exchangeCode(query.get('code'), { redirectUri, codeVerifier: request.codeVerifier })
}

/** The form values of `field` in the requests the mock recorded for `path`. */
export async function formValues (mock, path, field) {
  const requests = await mock.admin('GET', '/admin/requests')
  return requests.filter((r) => r.path === path).flatMap((r) => r.form?.[field] ?? [])
}
