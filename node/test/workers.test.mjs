// The addon in worker_threads: each worker loads the package in its own environment (napi
// classes, promises and threadsafe functions are per environment), and several run at once
// beside a main thread that keeps working.
import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import oauth from './pkg.mjs'
import { useMock, clientOptions } from './mock.mjs'

const { OAuthClient } = oauth
const mock = useMock(test)
const jobUrl = new URL('./worker-job.mjs', import.meta.url)

/** Starts a worker on `job`; resolves to { messages, code } once it has exited. */
function runWorker (workerData, onMessage = () => {}) {
  const worker = new Worker(jobUrl, { workerData })
  const messages = []
  const done = new Promise((resolve, reject) => {
    worker.on('message', (m) => { messages.push(m); onMessage(m, worker) })
    worker.on('error', reject)
    worker.on('exit', (code) => resolve({ messages, code }))
  })
  return { worker, done }
}

describe('worker_threads', () => {
  test('the addon loads in a worker, fetches and caches tokens there, and the worker exits cleanly', async () => {
    const { messages, code } = await runWorker({ job: 'use', client: clientOptions(mock()) }).done
    assert.equal(code, 0)
    assert.equal(messages.length, 1)
    const [report] = messages
    assert.ok(report.rawIsToken)
    assert.ok(report.cached)
    assert.equal(report.stats.fetches, 1)
    assert.equal(report.stats.hits, 1)
    // The JavaScript store ran on the worker's own thread, and got the token.
    assert.deepEqual(report.storeThreads, [report.threadId])
    assert.ok(report.savedTheToken)
    assert.equal(await mock().requests('/v2/token'), 3)
  })

  test('four workers at once each use the package while the main thread keeps working', async () => {
    await mock().config({ latency_ms: 50 })
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const first = await provider.token()
    const runs = Array.from({ length: 4 }, () => runWorker({ job: 'use', client: clientOptions(mock()) }).done)
    let exited = 0
    for (const run of runs) run.then(() => { exited++ }, () => { exited++ })
    // The main thread's provider and raw calls go on while the workers run.
    let mainCalls = 0
    while (exited < runs.length) {
      assert.equal(await provider.token(), first)
      mainCalls++
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const mainRaw = await new OAuthClient(clientOptions(mock())).clientCredentials()
    assert.equal(mainRaw.tokenType, 'Bearer')
    const results = await Promise.all(runs)
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0, 0])
    const reports = results.map((r) => r.messages[0])
    assert.equal(new Set(reports.map((r) => r.threadId)).size, 4)
    for (const report of reports) {
      assert.ok(report.rawIsToken && report.cached && report.savedTheToken)
      assert.deepEqual(report.storeThreads, [report.threadId])
    }
    assert.ok(mainCalls > 1, `the main thread made ${mainCalls} calls while the workers ran`)
    assert.equal(provider.stats().fetches, 1)
    assert.equal(await mock().requests('/v2/token'), 1 + 4 * 3 + 1)
  })

  test('workers sharing one FileStore make one token request between them', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'twilio-oauth-workers-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'tokens.json')
    const results = await Promise.all(Array.from({ length: 4 }, () =>
      runWorker({ job: 'shared-file', client: clientOptions(mock()), path }).done))
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0, 0])
    const reports = results.map((r) => r.messages[0])
    assert.equal(new Set(reports.map((r) => r.accessToken)).size, 1)
    assert.equal(reports.reduce((n, r) => n + r.stats.fetches, 0), 1)
    assert.equal(reports.reduce((n, r) => n + r.stats.storeHits, 0), 3)
    assert.equal(await mock().requests('/v2/token'), 1)
  })

  test('a worker terminated during a fetch leaves the main thread and later workers working', async () => {
    await mock().config({ latency_ms: 300 })
    const { done } = runWorker({ job: 'abandon', client: clientOptions(mock()) }, async (m, worker) => {
      if (!m.started) return
      while (await mock().requests('/v2/token') === 0) await new Promise((resolve) => setImmediate(resolve))
      await worker.terminate()
    })
    const { code } = await done
    assert.equal(code, 1, 'a terminated worker exits with code 1')
    // This request starts after the abandoned one, so it answers after it: by then the core
    // has settled the dead worker's promise and called its store.
    const token = await new OAuthClient(clientOptions(mock())).clientCredentials()
    assert.equal(token.tokenType, 'Bearer')
    await mock().config({ latency_ms: 0 })
    const later = await runWorker({ job: 'use', client: clientOptions(mock()) }).done
    assert.equal(later.code, 0)
    assert.ok(later.messages[0].cached)
    assert.equal(await mock().requests('/v2/token'), 2 + 3)
  })
})
