// Corporate networks: a private CA (`caFile`, `caPem`), an explicit `proxy`, and the
// environment's HTTPS_PROXY / NO_PROXY, against the mock server in TLS mode (`--ca-out`), whose
// port is also a CONNECT proxy that counts its tunnels (`tunnels` in /admin/stats).
import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import oauth, { packageDir } from './pkg.mjs'
import { Mock, mockBinary, CLIENT_ID, CLIENT_SECRET } from './mock.mjs'

const { OAuthClient, ConfigError, TransportError } = oauth
const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']

const work = mkdtempSync(join(tmpdir(), 'twilio-oauth-corporate-'))
const caFile = join(work, 'ca.pem')
/** `{ url: 'https://…', proxy: 'http://…' (the same port), admin: Mock (plain HTTP) }` */
let tls

test.before(async () => {
  const child = spawn(mockBinary(), ['--port', '0', '--exit-on-stdin-eof', '--ca-out', caFile], {
    stdio: ['pipe', 'pipe', 'ignore']
  })
  const line = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`mock server exited with ${code}`)))
    createInterface({ input: child.stdout }).once('line', resolve)
  })
  const m = /^listening on (https:\/\/\S+)$/.exec(line.trim())
  assert.ok(m, `unexpected first line from the mock server: ${line}`)
  const plain = m[1].replace('https://', 'http://')
  tls = { url: m[1], proxy: plain, admin: new Mock(child, plain) }
})
test.beforeEach(async () => { await tls.admin.reset() })
test.after(async () => {
  await tls?.admin.stop()
  rmSync(work, { recursive: true, force: true })
})

const tunnels = async () => (await tls.admin.stats()).tunnels

function client (extra = {}) {
  return new OAuthClient({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, baseUrl: tls.url, maxRetries: 0, ...extra })
}

describe('corporate networks', () => {
  test('with the CA as a file or PEM text the server is trusted', async () => {
    await client({ caFile }).clientCredentials()
    await client({ caPem: readFileSync(caFile, 'utf8') }).clientCredentials()
    assert.equal(await tls.admin.requests('/v2/token'), 2)
    assert.equal(await tunnels(), 0)
  })

  test('without the CA the error is a TransportError naming certificate verification', async () => {
    const err = await client().clientCredentials().then(() => null, (e) => e)
    assert.ok(err instanceof TransportError, String(err))
    assert.equal(err.name, 'TransportError')
    console.log(`without the CA: ${err.message}`)
    assert.match(err.message, /certificate verification failed/)
    assert.equal(await tls.admin.requests('/v2/token'), 0)
  })

  test('a bad CA or proxy is a ConfigError naming the option', () => {
    const garbage = join(work, 'garbage.pem')
    writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nnot base64!\n')
    for (const [extra, named] of [
      [{ caFile: join(work, 'missing.pem') }, /ca_file/],
      [{ caFile: garbage }, /ca_file/],
      [{ caPem: 'hello' }, /ca_pem/],
      [{ proxy: 'socks5://alice:pa55word@proxy:1080' }, /proxy/]
    ]) {
      assert.throws(() => client(extra), (e) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.match(e.message, named)
        assert.doesNotMatch(e.message, /pa55word/)
        return true
      })
    }
  })

  test('through an explicit proxy the tunnel count goes up', async () => {
    const c = client({ caFile, proxy: tls.proxy.replace('http://', 'http://alice:pa55word@') })
    for (let i = 0; i < 3; i++) await c.clientCredentials()
    // One tunnel carries the pooled connection's three requests.
    assert.equal(await tunnels(), 1)
    assert.equal(await tls.admin.requests('/v2/token'), 3)
  })

  // The environment is read when a client is built: each case is a fresh process.
  const child = `
    const { OAuthClient } = await import(${JSON.stringify(pathToFileURL(join(packageDir, 'index.mjs')).href)})
    await OAuthClient.fromEnv({ maxRetries: 0 }).clientCredentials()
  `
  for (const [name, vars, expected] of [
    ['HTTPS_PROXY', (p) => ({ HTTPS_PROXY: p }), 1],
    ['https_proxy', (p) => ({ https_proxy: p }), 1],
    ['NO_PROXY bypasses it', (p) => ({ HTTPS_PROXY: p, NO_PROXY: '127.0.0.1' }), 0]
  ]) {
    test(`the environment's proxy is honoured: ${name}`, async () => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !PROXY_VARS.includes(k)))
      Object.assign(env, vars(tls.proxy), {
        TWILIO_CLIENT_ID: CLIENT_ID,
        TWILIO_CLIENT_SECRET: CLIENT_SECRET,
        TWILIO_OAUTH_BASE_URL: tls.url,
        TWILIO_OAUTH_CA_FILE: caFile
      })
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { env, encoding: 'utf8', timeout: 60_000 })
      assert.equal(r.status, 0, r.stderr)
      assert.equal(await tunnels(), expected)
      assert.equal(await tls.admin.requests('/v2/token'), 1)
    })
  }
})
