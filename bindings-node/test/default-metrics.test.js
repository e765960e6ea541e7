'use strict'
// collectDefaultMetrics(): prom-client's names and types, promtool, GC, event-loop lag and
// utilisation, prefix and labels, idempotence, bad options, and stop() releasing everything.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { setTimeout: sleep } = require('node:timers/promises')
const promClient = require('prom-client')
const m = require('..')
const { collectDefaultMetrics } = require('../lib/default-metrics.js')
const { PROMTOOL_SKIP } = require('../test-support')

const PACKAGE = path.join(__dirname, '..')

/** Starts the default metrics in a fresh registry; stopped when the test ends. */
function collect(t, options = {}) {
  const register = new m.Registry()
  const handle = collectDefaultMetrics({ register, ...options })
  t.after(() => handle.stop())
  return { register, handle }
}

/** `# TYPE` lines as a Map name -> type. */
function types(text) {
  const out = new Map()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(name, type)
  return out
}

/** Sample lines as [{name, labels, value}]. */
function samples(text) {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const [, name, body = '', value] = line.match(/^([^{ ]+)(?:\{(.*)\})? (\S+)$/)
      const labels = {}
      for (const [, k, v] of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v
      return { name, labels, value: Number(value) }
    })
}

/** The value of the one sample named `name` (whatever its labels). */
function valueOf(text, name) {
  const found = samples(text).filter((s) => s.name === name)
  assert.equal(found.length, 1, `one sample ${name} in\n${text}`)
  return found[0].value
}

/** Allocates enough to cause young-generation GCs, then lets their entries arrive. */
async function makeGarbage() {
  let keep
  for (let i = 0; i < 2e5; i++) keep = Array.from({ length: 64 }, () => i)
  await sleep(20)
  return keep.length
}

function busyWait(ms) {
  const end = process.hrtime.bigint() + BigInt(ms * 1e6)
  while (process.hrtime.bigint() < end) {
    // spin: block the event loop
  }
}

/** Runs `script` in a child `node --expose-gc`; its stdout is JSON. */
function runChild(script, timeout = 15000) {
  const prelude = [
    `const m = require(${JSON.stringify(PACKAGE)})`,
    `const { collectDefaultMetrics } = require(${JSON.stringify(path.join(PACKAGE, 'lib/default-metrics.js'))})`,
    '',
  ].join('\n')
  const started = Date.now()
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', prelude + script], { encoding: 'utf8', timeout })
  return { ...r, elapsedMs: Date.now() - started }
}

test("prom-client 15's nodejs_* names and types, the sampler's process_* figures", async (t) => {
  const theirs = new promClient.Registry()
  promClient.collectDefaultMetrics({ register: theirs })
  const theirTypes = new Map((await theirs.getMetricsAsJSON()).map((f) => [f.name, f.type]))
  theirs.clear()

  const { register } = collect(t)
  register.sampler().sampleNow()
  const text = await register.metrics()
  const ours = types(text)
  const nodejsNames = [...theirTypes.keys()].filter((n) => n.startsWith('nodejs_'))
  assert.ok(nodejsNames.length >= 20, `prom-client registered ${nodejsNames.length} nodejs_* metrics`)
  for (const name of nodejsNames) assert.equal(ours.get(name), theirTypes.get(name), `${name} in\n${text}`)
  assert.equal(ours.get('nodejs_eventloop_utilization_ratio'), 'gauge')

  // Every process_* figure of prom-client's, under its name and type: from the sampler, or
  // (user and system CPU, the heap) from the default metrics themselves.
  for (const [name, type] of theirTypes) {
    if (name.startsWith('process_')) assert.equal(ours.get(name), type, `${name} in\n${text}`)
  }
  assert.ok(valueOf(text, 'process_resident_memory_bytes') > 0)
  assert.ok(Math.abs(valueOf(text, 'process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) < 5)

  // Figures computed at scrape time.
  const heapUsed = valueOf(text, 'nodejs_heap_size_used_bytes')
  assert.ok(heapUsed > 0 && heapUsed <= valueOf(text, 'nodejs_heap_size_total_bytes'))
  const spaces = samples(text).filter((s) => s.name === 'nodejs_heap_space_size_used_bytes').map((s) => s.labels.space)
  assert.ok(spaces.includes('new') && spaces.includes('old'), `spaces ${spaces}`)
  const [major, minor, patch] = process.versions.node.split('.')
  const version = samples(text).find((s) => s.name === 'nodejs_version_info')
  assert.deepEqual(version, { name: 'nodejs_version_info', labels: { version: process.version, major, minor, patch }, value: 1 })
})

test('active handles and resources are counted by type at each scrape', async (t) => {
  const { register } = collect(t)
  const server = require('node:net').createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const timer = setInterval(() => {}, 60000)
  t.after(() => clearInterval(timer))
  const withServer = register.metricsSync()
  const handles = samples(withServer).filter((s) => s.name === 'nodejs_active_handles')
  assert.ok(handles.some((s) => s.labels.type === 'Server' && s.value >= 1), withServer)
  assert.equal(valueOf(withServer, 'nodejs_active_handles_total'), handles.reduce((a, s) => a + s.value, 0))
  const timeouts = samples(withServer).find((s) => s.name === 'nodejs_active_resources' && s.labels.type === 'Timeout')
  assert.ok(timeouts !== undefined && timeouts.value >= 1, withServer)
  await new Promise((resolve) => server.close(resolve))
  await sleep(20) // a closed server's handle is listed until the next loop turns
  const without = register.metricsSync()
  const servers = samples(without).filter((s) => s.name === 'nodejs_active_handles' && s.labels.type === 'Server')
  assert.deepEqual(servers, [], 'a type with no handle left has no series')
})

// promtool's lint findings for names kept for compatibility: node_exporter's memory names
// (as scripts/lib.sh promtool_check allows) and prom-client's `_total` gauges.
const KEPT_NAMES = [
  /^node_memory_[A-Za-z]+_bytes metric names should be written in 'snake_case' not 'camelCase'$/,
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/,
]

test('the exposition passes promtool check metrics', { skip: PROMTOOL_SKIP }, async (t) => {
  const { register } = collect(t, { labels: { service: 'api' } })
  register.sampler().sampleNow()
  await makeGarbage()
  const text = await register.metrics()
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  // promtool exits 3 for lint findings only, 1 for a parse error.
  assert.ok(r.status === 0 || r.status === 3, `promtool: exit ${r.status}\n${r.stderr}${r.stdout}\n${text}`)
  const findings = `${r.stderr}${r.stdout}`.split('\n').filter((l) => l.trim() !== '' && !KEPT_NAMES.some((re) => re.test(l.trim())))
  assert.deepEqual(findings, [], text)
})

test('a forced GC is observed in nodejs_gc_duration_seconds{kind="major"}', () => {
  const r = runChild(`
    const register = new m.Registry()
    const handle = collectDefaultMetrics({ register })
    global.gc()
    // PerformanceObserver entries arrive asynchronously.
    setTimeout(() => {
      const major = register.metricsSync().match(/^nodejs_gc_duration_seconds_count\\{kind="major"\\} (\\S+)$/m)
      handle.stop()
      console.log(JSON.stringify({ major: major && Number(major[1]) }))
    }, 100)
  `)
  assert.equal(r.status, 0, r.stderr)
  const { major } = JSON.parse(r.stdout)
  assert.ok(major >= 1, `major GCs observed: ${major}`)
})

test('event-loop lag and utilisation see a busy-wait; the delay monitor resets at each scrape', async (t) => {
  const { register } = collect(t)
  await sleep(30)
  register.metricsSync()
  const scraped = process.hrtime.bigint()
  busyWait(25) // delays the setImmediate the scrape scheduled: nodejs_eventloop_lag_seconds
  await sleep(30) // a monitor tick after the reset, so that the next wait is recorded
  busyWait(25) // a late monitor tick: nodejs_eventloop_lag_max_seconds
  await sleep(15)
  const elapsedMs = Number(process.hrtime.bigint() - scraped) / 1e6
  const busy = register.metricsSync()
  assert.ok(valueOf(busy, 'nodejs_eventloop_lag_seconds') >= 0.025, busy)
  const max = valueOf(busy, 'nodejs_eventloop_lag_max_seconds')
  assert.ok(max >= 0.025, busy)
  assert.ok(valueOf(busy, 'nodejs_eventloop_lag_min_seconds') <= valueOf(busy, 'nodejs_eventloop_lag_p50_seconds'))
  assert.ok(valueOf(busy, 'nodejs_eventloop_lag_p99_seconds') <= max)
  const utilization = valueOf(busy, 'nodejs_eventloop_utilization_ratio')
  assert.ok(utilization >= (0.9 * 50) / elapsedMs && utilization <= 1, `utilisation ${utilization} with 50 of ${elapsedMs} ms busy`)

  await sleep(60)
  const idle = register.metricsSync()
  assert.ok(valueOf(idle, 'nodejs_eventloop_lag_max_seconds') < max, `max after an idle interval\n${idle}`)
  assert.ok(valueOf(idle, 'nodejs_eventloop_utilization_ratio') < utilization)
})

test('prefix and labels apply to every metric registered; the sampler keeps its names', async (t) => {
  const { register, handle } = collect(t, { prefix: 'app_', labels: { service: 'api', shard: 3 } })
  register.sampler().sampleNow()
  await makeGarbage()
  const text = await register.metrics()
  const names = [...types(text).keys()]
  assert.deepEqual(names.filter((n) => n.startsWith('nodejs_')), [])
  for (const name of handle.metricNames) assert.ok(/^app_(nodejs|process)_/.test(name), name)
  for (const name of handle.metricNames) assert.ok(names.includes(name), `${name} in\n${text}`)
  const own = samples(text).filter((s) => s.name.startsWith('app_'))
  for (const name of ['app_nodejs_version_info', 'app_nodejs_heap_size_used_bytes', 'app_nodejs_gc_duration_seconds_count']) {
    assert.ok(own.some((s) => s.name === name), `${name} in\n${text}`)
  }
  for (const s of own) assert.deepEqual([s.labels.service, s.labels.shard], ['api', '3'], `${s.name}`)
  assert.ok(names.includes('process_resident_memory_bytes'))
})

test('clear() removes the default metrics and the sampler\'s figures, as prom-client\'s does; a new call brings them back at once', () => {
  const register = new m.Registry()
  collectDefaultMetrics({ register })
  register.clear()
  assert.equal(register.metricsSync(), '\n')
  assert.equal(register.getMetricsAsArray().length, 0)
  const again = collectDefaultMetrics({ register })
  try {
    const text = register.metricsSync()
    for (const name of ['process_cpu_seconds_total', 'process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_version_info']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name)
    }
  } finally {
    again.stop()
    register.clear()
  }
})

test('a second call for the same registry returns the running handle; stop() allows a new one', async (t) => {
  const { register, handle } = collect(t)
  const nodejsTypes = (text) => [...types(text)].filter(([name]) => /^(nodejs|other)_/.test(name))
  const before = nodejsTypes(await register.metrics())
  assert.equal(collectDefaultMetrics({ register, prefix: 'other_' }), handle)
  assert.deepEqual(nodejsTypes(await register.metrics()), before)
  assert.equal(register.sampler().isRunning, true)
  handle.stop()
  handle.stop()
  assert.equal(register.sampler().isRunning, false)
  assert.deepEqual([...types(register.metricsSync()).keys()].filter((n) => n.startsWith('nodejs_')), [])
  const again = collectDefaultMetrics({ register })
  t.after(() => again.stop())
  assert.notEqual(again, handle)
  assert.ok(types(register.metricsSync()).has('nodejs_version_info'))
})

test('a sampler the application started keeps running after stop()', (t) => {
  const register = new m.Registry()
  register.sampler().start(60)
  t.after(() => register.sampler().stop())
  collectDefaultMetrics({ register }).stop()
  assert.equal(register.sampler().isRunning, true)
})

test('bad options: TypeError/RangeError with a code; nothing is left registered or running', () => {
  const cases = [
    ['not an object', 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ register: {} }, 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ prefix: 1 }, 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ prefix: 'bad-' }, 'Error', 'ERR_METRICORE_INVALID_NAME'],
    [{ labels: ['a'] }, 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ labels: { a: {} } }, 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ labels: { kind: 'x' } }, 'RangeError', 'ERR_METRICORE_INVALID_CONFIG'],
    [{ labels: { 'bad-name': 'x' } }, 'Error', 'ERR_METRICORE_INVALID_NAME'],
    [{ gcDurationBuckets: 'fast' }, 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ gcDurationBuckets: [1, 0.5] }, 'RangeError', 'ERR_METRICORE_INVALID_CONFIG'],
    [{ eventLoopMonitoringPrecision: '10' }, 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ eventLoopMonitoringPrecision: 0 }, 'RangeError', 'ERR_METRICORE_INVALID_CONFIG'],
    [{ eventLoopMonitoringPrecision: 2.5 }, 'RangeError', 'ERR_METRICORE_INVALID_CONFIG'],
    [{ samplerIntervalSeconds: '10' }, 'TypeError', 'ERR_METRICORE_INVALID_TYPE'],
    [{ samplerIntervalSeconds: 0.01 }, 'RangeError', 'ERR_METRICORE_INVALID_CONFIG'],
    [{ gcDurationBucket: [1] }, 'RangeError', 'ERR_METRICORE_INVALID_CONFIG'],
  ]
  for (const [options, name, code] of cases) {
    const register = new m.Registry()
    const config = typeof options === 'object' && !('register' in options) ? { register, ...options } : options
    assert.throws(() => collectDefaultMetrics(config), (e) => e.name === name && e.code === code, JSON.stringify(options))
    assert.deepEqual(register._native.familyNames(), [], `${JSON.stringify(options)} left families`)
    assert.equal(register.sampler().isRunning, false, `${JSON.stringify(options)} left the sampler running`)
  }
})

test('a name already registered is a conflict; the existing metric and its value stay', () => {
  const register = new m.Registry()
  const mine = new m.Gauge({ name: 'nodejs_version_info', help: 'Mine.', registers: [register] })
  mine.set(7)
  assert.throws(() => collectDefaultMetrics({ register }), { name: 'Error', code: 'ERR_METRICORE_CONFLICT' })
  assert.deepEqual(register._native.familyNames(), ['nodejs_version_info'])
  assert.equal(register.sampler().isRunning, false)
  assert.match(register.metricsSync(), /^nodejs_version_info 7$/m)
  // The failed call left no running handle behind: a later one on a clean registry works.
  register.removeSingleMetric('nodejs_version_info')
  collectDefaultMetrics({ register }).stop()
})

test('stop() releases the observer, the monitor and the sampler: the process exits on its own', () => {
  const r = runChild(`
    const { setTimeout: sleep } = require('node:timers/promises')
    ;(async () => {
      const resourcesBefore = process.getActiveResourcesInfo()
      const register = new m.Registry()
      const handle = collectDefaultMetrics({ register, samplerIntervalSeconds: 0.1 })
      const gcHistogram = register.getSingleMetric('nodejs_gc_duration_seconds')
      global.gc()
      await sleep(100)
      const familiesBefore = register.metricsSync().match(/^# TYPE nodejs_\\S+/gm).length
      const running = register.sampler().isRunning
      handle.stop()
      const majorAtStop = gcHistogram.snapshot({ kind: 'major' }).count
      global.gc()
      await sleep(100)
      console.log(JSON.stringify({
        familiesBefore,
        running,
        runningAfter: register.sampler().isRunning,
        majorAtStop,
        majorAfter: gcHistogram.snapshot({ kind: 'major' }).count,
        families: register.metricsSync().match(/^# TYPE nodejs_\\S+/gm),
        resourcesBefore,
        resourcesAfter: process.getActiveResourcesInfo(),
      }))
      // No process.exit(): the child must end by itself.
    })()
  `)
  assert.equal(r.signal, null, `the child was killed after ${r.elapsedMs} ms: it did not exit on its own`)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.running, true)
  assert.equal(out.runningAfter, false)
  assert.ok(out.majorAtStop >= 1)
  assert.equal(out.majorAfter, out.majorAtStop, 'a GC after stop() was observed')
  assert.ok(out.familiesBefore >= 20)
  assert.equal(out.families, null)
  assert.deepEqual(out.resourcesAfter, out.resourcesBefore)
})
