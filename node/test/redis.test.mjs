// RedisStore against a real redis-server (Debian's package): started here on a free port with
// its own folder and no persistence, stopped after. Providers in separate OS processes share
// one token through it (the core's fleet-wide lock); a wrong key reads nothing; Redis going
// away never stops the tokens.
import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { fork, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import oauth from './pkg.mjs'
import { useMock, clientOptions } from './mock.mjs'

const { OAuthClient, RedisStore, ConfigError } = oauth
const mock = useMock(test)
const jobPath = fileURLToPath(new URL('./redis-job.mjs', import.meta.url))

function freePort () {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function accepts (port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** A redis-server of this test file, on a free port with its own folder. */
class Redis {
  static async start (t) {
    const redis = new Redis(mkdtempSync(join(tmpdir(), 'twilio-oauth-redis-')), await freePort())
    t.after(() => redis.stop())
    await redis.run()
    return redis
  }

  constructor (dir, port) {
    this.dir = dir
    this.port = port
    this.child = null
    this.url = `redis://127.0.0.1:${port}/0`
  }

  async run () {
    this.child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir
    ], { stdio: 'ignore' })
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    const deadline = Date.now() + 10_000
    while (!(await accepts(this.port))) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10))])
    }
  }

  /** Stops the server (its data goes with it: no persistence). */
  async stop () {
    if (this.child !== null && this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve))
      this.child.kill('SIGKILL')
      await exited
    }
    this.child = null
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** One command through redis-cli; its output lines. */
  cli (...args) {
    const r = spawnSync('redis-cli', ['-p', String(this.port), '--raw', ...args], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    return r.stdout.split('\n').filter((line) => line.length > 0)
  }

  /** Every value stored under the store's prefix. */
  values (prefix = 'twilio-oauth:') {
    return this.cli('--scan', '--pattern', `${prefix}*`).map((key) => this.cli('GET', key).join('\n'))
  }
}

function newKey () {
  return randomBytes(32)
}

/** Forks `n` children on one spec, lets them call token() together, and collects their reports. */
async function runChildren (n, spec) {
  const children = Array.from({ length: n }, () => fork(jobPath, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  const ready = children.map((child) => new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('error', reject)
  }))
  await Promise.all(ready)
  const reports = children.map((child) => new Promise((resolve, reject) => {
    let report = null
    child.once('message', (m) => { report = m })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve(report) : reject(new Error(`child exited with ${code}`))))
  }))
  for (const child of children) child.send('go')
  return Promise.all(reports)
}

describe('RedisStore', () => {
  test('two providers in two processes on one Redis make one token request', async (t) => {
    const redis = await Redis.start(t)
    // Slow token requests: both processes are inside their fetch at once, so only the
    // fleet-wide lock keeps the second from asking too.
    await mock().config({ latency_ms: 400 })
    const reports = await runChildren(2, { url: redis.url, key: newKey().toString('base64'), client: clientOptions(mock()) })
    for (const r of reports) assert.equal(r.error, undefined, r.error)
    assert.equal(reports[0].accessToken, reports[1].accessToken)
    assert.equal(await mock().requests('/v2/token'), 1)
    const fetched = reports.map((r) => r.stats.fetches).sort()
    assert.deepEqual(fetched, [0, 1], 'one process fetched, the other took its token from Redis')
    assert.equal(reports.find((r) => r.stats.fetches === 0).stats.storeHits, 1)
  })

  test('a RedisStore with a different encryption key cannot read the token', async (t) => {
    const redis = await Redis.start(t)
    const client = new OAuthClient(clientOptions(mock()))
    const first = await client.tokenProvider({ store: new RedisStore(redis.url, { encryptionKey: newKey() }) }).token()
    const stored = redis.values()
    assert.equal(stored.length, 1)
    assert.ok(!stored[0].includes(first.accessToken), 'the token is encrypted at rest')
    const other = client.tokenProvider({ store: new RedisStore(redis.url, { encryptionKey: newKey().toString('base64') }) })
    const second = await other.token()
    assert.notEqual(second.accessToken, first.accessToken)
    assert.equal(other.stats().storeHits, 0)
    assert.equal(other.stats().fetches, 1)
    assert.equal(await mock().requests('/v2/token'), 2)
  })

  test('without an encryption key the token in Redis is readable by anyone who can read Redis', async (t) => {
    assert.equal(process.env.TWILIO_OAUTH_ENCRYPTION_KEY, undefined, 'this test needs no key in the environment')
    const redis = await Redis.start(t)
    const store = new RedisStore(redis.url)
    assert.equal(store.encrypted, false)
    const token = await new OAuthClient(clientOptions(mock())).tokenProvider({ store }).token()
    assert.ok(redis.values().some((value) => value.includes(token.accessToken)))
  })

  test('with Redis stopped, tokens keep flowing and storeErrors counts the failures', async (t) => {
    const redis = await Redis.start(t)
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider({
      store: new RedisStore(redis.url, { encryptionKey: newKey(), operationTimeout: 0.2 })
    })
    const first = await provider.token()
    assert.equal(provider.stats().storeErrors, 0)
    await redis.stop()
    provider.invalidate()
    const second = await provider.token()
    assert.notEqual(second.accessToken, first.accessToken)
    assert.equal(await provider.accessToken(), second.accessToken)
    const stats = provider.stats()
    assert.ok(stats.storeErrors > 0, `storeErrors ${stats.storeErrors}`)
    assert.equal(stats.fetches, 2)
    assert.equal(stats.failures, 0)
  })

  test('a bad encryption key or URL is a ConfigError', () => {
    const url = 'redis://127.0.0.1:6379/0'
    for (const encryptionKey of [Buffer.alloc(31), 'c2hvcnQ=', 'not base64!', new Uint8Array(33)]) {
      assert.throws(() => new RedisStore(url, { encryptionKey }), ConfigError, String(encryptionKey))
    }
    assert.throws(() => new RedisStore('http://127.0.0.1/', { encryptionKey: newKey() }), ConfigError)
    assert.throws(() => new RedisStore(url, { encryptionKey: newKey(), lockTtl: -1 }), ConfigError)
    const store = new RedisStore('redis://user:hunter2@127.0.0.1:6379/0', { encryptionKey: newKey(), keyPrefix: 'app:' })
    assert.equal(store.encrypted, true)
    assert.equal(store.keyPrefix, 'app:')
    assert.ok(!JSON.stringify(store).includes('hunter2'))
  })
})
