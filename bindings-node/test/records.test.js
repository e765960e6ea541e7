'use strict'
// The records the addon returns as plain objects (resource samples, the TypeScript-era
// resource shapes, the flat figures, sampler errors, a registry's families): their keys,
// their types, null for what is missing, and agreement with the core's JSON and with what
// Node itself reports about the machine.
const test = require('node:test')
const assert = require('node:assert/strict')
const os = require('node:os')
const m = require('..')

const linux = process.platform === 'linux'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every value is a number or null: never a string, never undefined. */
function assertFigures(object, keys, where) {
  assert.deepEqual(Object.keys(object), keys, where)
  for (const k of keys) {
    const v = object[k]
    assert.ok(v === null || typeof v === 'number', `${where}.${k} is ${typeof v}`)
  }
}

const PROCESS_KEYS = [
  'cpuSeconds',
  'cpuUserSeconds',
  'cpuSystemSeconds',
  'cpuPercent',
  'residentMemoryBytes',
  'virtualMemoryBytes',
  'threads',
  'openFds',
  'maxFds',
  'startTimeSeconds',
  'ioReadBytes',
  'ioWriteBytes',
  'voluntaryContextSwitches',
  'involuntaryContextSwitches',
]

test('a resource sample: camelCase keys, numbers or null, the latest is the one just taken', { skip: !linux && 'the /proc sampler is Linux-only' }, async () => {
  const sampler = new m.Registry().sampler()
  assert.equal(sampler.latest(), null, 'no sample before the first')
  const first = sampler.sampleNow()
  assert.deepEqual(Object.keys(first), ['timestamp', 'intervalSeconds', 'process', 'system'])
  assert.equal(first.intervalSeconds, null, 'the first sample has no interval')
  assert.ok(Math.abs(first.timestamp - Date.now() / 1000) < 5, `timestamp ${first.timestamp} is Unix seconds`)
  assertFigures(first.process, PROCESS_KEYS, 'process')
  assert.equal(first.process.cpuPercent, null, 'a percentage needs two samples')
  assert.ok(first.process.residentMemoryBytes > 0)
  assert.deepEqual(sampler.latest(), first, 'sampleNow publishes its sample as the latest')

  await sleep(300)
  const second = await sampler.sampleNowAsync()
  assert.ok(second.intervalSeconds > 0.2, `interval ${second.intervalSeconds}`)
  const system = second.system
  assert.deepEqual(Object.keys(system), [
    'bootTimeSeconds',
    'cpuPercent',
    'cpuSeconds',
    'loadAverage',
    'memory',
    'memoryPressure',
    'disks',
    'filesystems',
    'network',
    'tcpConnections',
  ])
  assert.equal(system.memory.totalBytes, os.totalmem(), 'MemTotal, as Node reads it')
  assert.deepEqual(system.loadAverage.length, 3)
  assert.ok(system.cpuSeconds.length >= 1)
  for (const cpu of system.cpuSeconds) {
    assert.equal(typeof cpu.cpu, 'string')
    for (const pair of cpu.modes) {
      assert.ok(Array.isArray(pair) && pair.length === 2, 'modes are [mode, seconds] pairs')
      assert.equal(typeof pair[0], 'string')
      assert.equal(typeof pair[1], 'number')
    }
  }
  const lo = system.network.find((n) => n.device === 'lo')
  if (lo !== undefined) assert.ok(lo.rates !== null, 'a second sample has rates')
  if (system.tcpConnections !== null) {
    for (const [state, n] of Object.entries(system.tcpConnections)) {
      assert.doesNotMatch(state, /_/, 'state names are camelCase keys like every other key')
      assert.equal(typeof n, 'number')
    }
  }
})

test('the TypeScript-era shapes and the flat figures', { skip: !linux && 'the /proc sampler is Linux-only' }, async () => {
  const sampler = new m.Registry().sampler()
  const first = sampler.resourceShapes()
  assert.deepEqual(Object.keys(first), ['cpu', 'memory', 'disk', 'network'])
  assert.equal(first.network, null, 'rates need a second sample')
  await sleep(300)
  const shapes = await sampler.resourceShapesAsync()
  assert.deepEqual(Object.keys(shapes.memory), ['used', 'free', 'cached', 'buffers', 'swapUsed', 'swapFree', 'pressure'])
  assert.ok(shapes.memory.used > 0 && shapes.memory.used + shapes.memory.free <= os.totalmem())
  assert.deepEqual(Object.keys(shapes.cpu), ['usage', 'user', 'system', 'idle', 'iowait', 'steal', 'loadAvg'])
  assert.ok(shapes.cpu.usage >= 0 && shapes.cpu.usage <= 100, `cpu.usage ${shapes.cpu.usage}`)
  assert.ok(Math.abs(shapes.cpu.usage + shapes.cpu.idle + shapes.cpu.iowait - 100) < 1e-6, 'busy, idle and iowait make the whole')
  assert.deepEqual(shapes.network === null ? null : Object.keys(shapes.network), ['connections', 'bandwidth', 'packets'])
  assert.deepEqual(Object.keys(shapes.network.packets), ['in', 'out', 'dropped', 'errors'])
  if (shapes.disk !== null) {
    assertFigures(shapes.disk, ['readOps', 'writeOps', 'readBytes', 'writeBytes', 'utilization', 'queueLength'], 'disk')
  }

  const figures = sampler.resourceMetrics()
  assertFigures(
    figures,
    ['memoryUsedBytes', 'memoryTotalBytes', 'cpuUsagePercent', 'diskUsedBytes', 'diskTotalBytes', 'threadCount', 'fdCount', 'timestamp'],
    'figures',
  )
  assert.equal(figures.memoryTotalBytes, os.totalmem())
  assert.ok(figures.fdCount >= 3 && figures.threadCount >= 1)
  const errors = sampler.errors()
  assert.equal(Object.getPrototypeOf(errors), Object.prototype)
  for (const n of Object.values(errors)) assert.equal(typeof n, 'number')
})

test("a registry's families are the core's JSON, built without JSON text", () => {
  const registry = new m.Registry()
  const registers = [registry]
  const counter = new m.Counter({ name: 'bytes_moved', help: 'Bytes "moved".', labelNames: ['path'], registers })
  counter.labels('/é\\n').inc(2 ** 40 + 3) // past 32 bits: still a plain number
  counter.labels('/b').inc()
  const gauge = new m.Gauge({ name: 'temperature', help: 'Heat.', labelNames: ['where'], registers })
  gauge.labels('nowhere').set(NaN)
  gauge.labels('sun').set(Infinity)
  gauge.labels('room').set(21.5)
  const latency = new m.Histogram({ name: 'latency_seconds', help: 'Latency.', buckets: [0.1, 1], registers })
  latency.observe(0.05)
  latency.observe(2)
  new m.Summary({ name: 'empty_summary', help: 'Nothing yet.', registers })
  new m.Histogram({ name: 'unit_less', help: 'Plain.', registers }).observe(1)

  const families = registry.toJSON()
  assert.deepEqual(families, JSON.parse(registry._native.toJson()), 'the same values JSON.parse gives for the core JSON')
  const byName = Object.fromEntries(families.map((f) => [f.name, f]))
  assert.deepEqual(Object.keys(byName.bytes_moved), ['name', 'help', 'kind', 'label_names', 'series'])
  const big = byName.bytes_moved.series.find((s) => s.labels[0] === '/é\\n')
  assert.equal(big.value.value, 2 ** 40 + 3)
  const temps = Object.fromEntries(byName.temperature.series.map((s) => [s.labels[0], s.value.value]))
  assert.deepEqual(temps, { nowhere: null, room: 21.5, sun: null }, 'non-finite gauges are null, as in the JSON')
  const h = byName.latency_seconds.series[0].value
  assert.equal(h.count, 2)
  assert.deepEqual(h.buckets, [['0.1', 1], ['1', 1], ['+Inf', 2]])
  const quantiles = byName.empty_summary.series[0].value.quantiles
  assert.ok(quantiles.length > 0 && quantiles.every(([q, v]) => typeof q === 'number' && v === null), 'an empty window has no quantiles')
})
