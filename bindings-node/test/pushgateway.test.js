'use strict'
// Pushgateway beside prom-client's: both push equivalent registries to one loopback
// receiver, which records every request; what each sends (method, path, headers that
// matter, body) and what each resolves or rejects with are compared.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { gunzipSync } = require('node:zlib')
const prom = require('prom-client')
const m = require('..')

/** A receiver answering `status` (or never, with 'hang'); resolves to {url, close, requests}. */
function receiver(status = 200) {
  const requests = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const gz = req.headers['content-encoding'] === 'gzip'
      requests.push({ method: req.method, url: req.url, encoding: req.headers['content-encoding'], body: (gz ? gunzipSync(raw) : raw).toString() })
      if (status === 'hang') return
      res.statusCode = status
      res.end(status >= 400 ? 'bad push' : '')
    })
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`
      const close = () => {
        server.closeAllConnections()
        return new Promise((r) => server.close(r))
      }
      resolve({ url, requests, close })
    })
  })
}

/** The same two metrics in a registry of `lib`. */
function registryOf(lib) {
  const registry = new lib.Registry()
  const c = new lib.Counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['queue'], registers: [registry] })
  c.inc({ queue: 'a' }, 3)
  const g = new lib.Gauge({ name: 'last_run_seconds', help: 'Last run.', registers: [registry] })
  g.set(1700000000.5)
  return registry
}

async function outcome(promise) {
  try {
    const { resp, body } = await promise
    return { status: resp.statusCode, body }
  } catch (e) {
    return { threw: e.constructor.name, message: e.message }
  }
}

const CALLS = [
  ['push', { jobName: 'nightly' }, {}],
  ['pushAdd', { jobName: 'batch/1', groupings: { instance: 'host:9', 'a b': 'c/d' } }, {}],
  ['delete', { jobName: 'nightly', groupings: { instance: 'x' } }, {}],
  ['push', { jobName: 'zipped' }, { headers: { 'Content-Encoding': 'gzip' } }],
  ['delete', { jobName: 'zipped' }, { headers: { 'Content-Encoding': 'gzip' } }],
]

test('push, pushAdd and delete send what prom-client sends and resolve as it does', async () => {
  const r = await receiver()
  try {
    for (const path of ['', '/prefix']) {
      for (const [method, params, options] of CALLS) {
        const before = r.requests.length
        const theirs = await outcome(new prom.Pushgateway(r.url + path, { ...options, headers: options.headers && { ...options.headers } }, registryOf(prom))[method](params))
        const ours = await outcome(new m.Pushgateway(r.url + path, { ...options, headers: options.headers && { ...options.headers } }, registryOf(m))[method](params))
        assert.deepEqual(ours, theirs, `${method} ${JSON.stringify(params)}`)
        const [a, b] = r.requests.slice(before)
        assert.deepEqual(b, a, `${method} ${path} ${JSON.stringify(params)}`)
        assert.ok(a.url.startsWith(`${path}/metrics/job/`), a.url)
      }
    }
  } finally {
    await r.close()
  }
})

test('errors: a missing job name throws, a status >= 400 and a timeout reject, as prom-client\'s do', async () => {
  const failing = await receiver(500)
  const hanging = await receiver('hang')
  try {
    for (const lib of [prom, m]) assert.throws(() => new lib.Pushgateway(failing.url, {}, registryOf(lib)).push({}), { name: 'Error', message: 'Missing jobName parameter' })
    const [theirs, ours] = [await outcome(new prom.Pushgateway(failing.url, {}, registryOf(prom)).push({ jobName: 'j' })), await outcome(new m.Pushgateway(failing.url, {}, registryOf(m)).push({ jobName: 'j' }))]
    assert.deepEqual(ours, theirs)
    assert.deepEqual(ours, { threw: 'Error', message: 'push failed with status 500, bad push' })
    const timedOut = await outcome(new m.Pushgateway(hanging.url, { timeout: 50 }, registryOf(m)).pushAdd({ jobName: 'j' }))
    assert.deepEqual(timedOut, await outcome(new prom.Pushgateway(hanging.url, { timeout: 50 }, registryOf(prom)).pushAdd({ jobName: 'j' })))
    assert.deepEqual(timedOut, { threw: 'Error', message: 'Pushgateway request timed out' })
    // Without requireJobName a push goes to /metrics itself.
    const r = await receiver()
    await new m.Pushgateway(r.url, { requireJobName: false }, registryOf(m)).push()
    assert.equal(r.requests[0].url, '/metrics')
    await r.close()
  } finally {
    await failing.close()
    await hanging.close()
  }
})
