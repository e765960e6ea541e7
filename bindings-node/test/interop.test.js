'use strict'
// Interchange with the peers: HdrHistogram V2 blobs between metricore and hdr-histogram-js
// in both directions (plain and deflate), a foreign blob merged into our histogram, corrupt
// blobs, and the same calls on prom-client and metricore giving the same samples for
// timers (label merging) and summaries. api.test.js covers our own round-trip and the
// counter/gauge/histogram samples; this file covers what only a peer can check.
const test = require('node:test')
const assert = require('node:assert/strict')
const hdr = require('hdr-histogram-js')
const prom = require('prom-client')
const m = require('..')
const { mulberry32, samples } = require('../test-support')

const QUANTILES = [0.5, 0.9, 0.99, 0.999]
// hdr-histogram-js ranks a quantile as round(q * count), metricore (like HdrHistogram Java
// and the hdrhistogram crate) as ceil(q * count). With 10,000 values q * count is a whole
// number at every quantile checked, so both name the same recorded value and any
// difference is a decoding difference.
const VALUES = 10_000
// hdr-histogram-js encodes normalizingIndexOffset = 1 and the integer-to-double ratio as the
// integer 1 (bits 0x...01); decodeV2 reads both as Java's 0 and 1.0, as hdr-histogram-js
// itself does.

/** `n` lognormal whole numbers in [lowest, highest], both ends included when n >= 2. */
function latencies(n, seed, lowest, highest, mu, sigma) {
  const rnd = mulberry32(seed)
  const out = n >= 2 ? [lowest, highest] : []
  while (out.length < n) {
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())
    out.push(Math.min(highest, Math.max(lowest, Math.round(Math.exp(mu + sigma * z)))))
  }
  return out
}

const WIDE = { lowest: 1, highest: 3.6e9 }
const DEFAULT = { lowest: 1, highest: 60e6 }
/** The shapes checked: a wide range (1 µs .. 1 h at 3 digits), empty, one value. */
const CASES = [
  { label: 'wide 1..3.6e9', range: WIDE, values: latencies(VALUES, 7, WIDE.lowest, WIDE.highest, 9, 3.5) },
  { label: 'empty', range: DEFAULT, values: [] },
  { label: 'single value', range: DEFAULT, values: [123_456] },
]

let histograms = 0
/** Our histogram (3 significant digits, a private registry) holding `values` as raw integers. */
function ours(range, values) {
  const h = new m.Histogram({ name: `interop_${histograms++}`, help: 'I.', registers: [], ...range, significantFigures: 3 })
  for (const v of values) h.record(v)
  return h
}

/** A JS hdr-histogram-js histogram of the same layout holding `values`. */
function foreign(range, values, useWebAssembly = false) {
  const h = hdr.build({
    lowestDiscernibleValue: range.lowest,
    highestTrackableValue: range.highest,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    useWebAssembly,
  })
  for (const v of values) h.recordValue(v)
  return h
}

/**
 * Asserts that `snapshot` (ours) and `theirs` (an hdr-histogram-js histogram) describe the
 * recorded `values`: the same count, the same value at each quantile, and min/max the
 * HDR-equivalent edges of the true extremes (`layout` supplies hdr-histogram-js' own
 * lowestEquivalentValue/highestEquivalentValue). A side decoded from a blob only knows the
 * bucket of its extremes; a live side knows them exactly, hence `decoded` names which sides
 * are bucket edges.
 */
function assertSame(snapshot, theirs, values, layout, decoded, what) {
  const count = values.length
  assert.equal(snapshot.count, count, `${what}: our count`)
  assert.equal(theirs.totalCount, count, `${what}: their count`)
  if (count === 0) {
    assert.equal(snapshot.min, 0, `${what}: our min when empty`)
    assert.equal(snapshot.max, 0, `${what}: our max when empty`)
    assert.equal(theirs.maxValue, 0, `${what}: their max when empty`)
  } else {
    const min = Math.min(...values)
    const max = Math.max(...values)
    const edge = (side, exact, lowSide) => (decoded[side] ? (lowSide ? layout.lowestEquivalentValue(exact) : layout.highestEquivalentValue(exact)) : exact)
    assert.equal(snapshot.min, edge('ours', min, true), `${what}: our min`)
    assert.equal(snapshot.max, edge('ours', max, false), `${what}: our max`)
    assert.equal(theirs.minNonZeroValue, edge('theirs', min, true), `${what}: their min`)
    assert.equal(theirs.maxValue, edge('theirs', max, false), `${what}: their max`)
  }
  for (const q of QUANTILES) {
    assert.equal(snapshot.valueAtQuantile(q), theirs.getValueAtPercentile(q * 100), `${what}: value at ${q}`)
  }
}

test('our V2 blobs decode in hdr-histogram-js: plain and deflate, same count, min, max, quantiles', () => {
  for (const { label, range, values } of CASES) {
    const layout = foreign(range, [])
    const snapshot = ours(range, values).snapshot()
    const plain = hdr.JsHistogram.decode(new Uint8Array(snapshot.encodeV2(false)))
    const deflated = hdr.decodeFromCompressedBase64(snapshot.encodeV2(true).toString('base64'))
    for (const [form, theirs] of [['plain', plain], ['deflate', deflated]]) {
      const what = `${label}, ${form}`
      assertSame(snapshot, theirs, values, layout, { ours: false, theirs: true }, what)
      // The layout travels with the blob.
      assert.equal(theirs.numberOfSignificantValueDigits, 3, `${what}: significant digits`)
      assert.ok(theirs.highestTrackableValue >= range.highest, `${what}: highest trackable ${theirs.highestTrackableValue}`)
      // Our decoder and theirs read the same bytes to the same extremes.
      const back = m.decodeV2(form === 'plain' ? snapshot.encodeV2(false) : snapshot.encodeV2(true))
      assertSame(back, theirs, values, layout, { ours: true, theirs: true }, `${what}, decoded by both`)
    }
  }
})

/** hdr-histogram-js' blobs of `values`: deflate from the JS build, plain from the WebAssembly build (the only plain encoder it exposes). */
function foreignBlobs(range, values) {
  const blobs = [['deflate (JS)', Buffer.from(hdr.encodeIntoCompressedBase64(foreign(range, values)), 'base64')]]
  hdr.initWebAssemblySync()
  const wasm = foreign(range, values, true)
  blobs.push(['plain (WebAssembly)', Buffer.from(wasm.encode())])
  blobs.push(['deflate (WebAssembly)', Buffer.from(wasm.encodeIntoCompressedBase64(), 'base64')])
  wasm.destroy()
  return blobs
}

test('hdr-histogram-js blobs decode in metricore: plain and deflate, same count, min, max, quantiles', () => {
  for (const { label, range, values } of CASES) {
    const theirs = foreign(range, values)
    for (const [form, blob] of foreignBlobs(range, values)) {
      assertSame(m.decodeV2(blob), theirs, values, theirs, { ours: true, theirs: false }, `${label}, ${form}`)
    }
  }
})

test('a decoded hdr-histogram-js blob merges into our histogram as if recorded here', () => {
  const here = latencies(6_000, 11, DEFAULT.lowest, DEFAULT.highest, 8, 1.5)
  const there = latencies(4_000, 12, DEFAULT.lowest, DEFAULT.highest, 10, 2)
  const h = ours(DEFAULT, here)
  h.merge(m.decodeV2(Buffer.from(hdr.encodeIntoCompressedBase64(foreign(DEFAULT, there)), 'base64')))
  const both = [...here, ...there]
  const reference = foreign(DEFAULT, both)
  const snapshot = h.snapshot()
  assert.equal(snapshot.count, VALUES)
  for (const q of QUANTILES) assert.equal(snapshot.valueAtQuantile(q), reference.getValueAtPercentile(q * 100), `value at ${q}`)
  // Each extreme is exact or its HDR edge, depending on which side recorded it.
  const min = Math.min(...both)
  const max = Math.max(...both)
  assert.ok(snapshot.min >= reference.lowestEquivalentValue(min) && snapshot.min <= min, `min ${snapshot.min} vs ${min}`)
  assert.ok(snapshot.max >= max && snapshot.max <= reference.highestEquivalentValue(max), `max ${snapshot.max} vs ${max}`)
})

test('damaged blobs, plain and deflate, are a TypeError ERR_METRICORE_CORRUPT_BLOB', () => {
  const snapshot = ours(DEFAULT, latencies(1_000, 3, DEFAULT.lowest, DEFAULT.highest, 8, 1.5)).snapshot()
  const plain = snapshot.encodeV2(false)
  const deflated = snapshot.encodeV2(true)
  const edited = (blob, edit) => {
    const copy = Buffer.from(blob)
    edit(copy)
    return copy
  }
  const cases = {
    empty: Buffer.alloc(0),
    'header cut short': plain.subarray(0, 20),
    'plain payload cut short': plain.subarray(0, plain.length - 3),
    'deflate stream cut in half': deflated.subarray(0, deflated.length >> 1),
    'deflate checksum damaged': edited(deflated, (b) => (b[b.length - 2] ^= 0xff)),
    // (Bits 4-7 of the cookie are the word size, which readers ignore: flip another.)
    'unknown cookie': edited(plain, (b) => (b[2] ^= 0x40)),
    'payload length past the end': edited(plain, (b) => b.writeUInt32BE(plain.length + 1_000, 4)),
    'payload length near 2^31 (must fail before allocating it)': edited(plain, (b) => b.writeUInt32BE(0x7fffffff, 4)),
    'deflate stream missing its last byte (the checksum)': deflated.subarray(0, deflated.length - 1),
    'seven significant digits': edited(plain, (b) => b.writeUInt32BE(7, 12)),
    'lowest above highest': edited(plain, (b) => b.writeBigUInt64BE(10n ** 12n, 16)),
  }
  for (const [what, blob] of Object.entries(cases)) {
    assert.throws(() => m.decodeV2(blob), { name: 'TypeError', code: 'ERR_METRICORE_CORRUPT_BLOB' }, what)
  }
})

/**
 * Asserts both expositions hold the same sample names and, for each name, values within
 * `tolerance(name)` of each other, relative to prom-client's (null: the name alone must
 * match). Returns our samples.
 */
function assertSameSamples(ourText, theirText, tolerance = () => 1e-9) {
  const a = samples(ourText)
  const b = samples(theirText)
  assert.deepEqual(a.map((s) => s[0]), b.map((s) => s[0]))
  a.forEach(([name, v], i) => {
    const w = b[i][1]
    if (tolerance(name) === null) return
    assert.ok(Math.abs(v - w) <= tolerance(name) * Math.abs(w), `${name}: ${v} (metricore) vs ${w} (prom-client)`)
  })
  return a
}

/**
 * Runs `body(advance)` with process.hrtime (and .bigint) replaced by a clock that moves only
 * when `advance(seconds)` is called, so both libraries' timers measure the same durations.
 */
function withFakeClock(body) {
  const real = process.hrtime
  let now = 1_000_000_000_000n
  const split = (ns) => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)]
  const fake = (since) => (since === undefined ? split(now) : split(now - (BigInt(since[0]) * 1_000_000_000n + BigInt(since[1]))))
  fake.bigint = () => now
  process.hrtime = fake
  try {
    return body((seconds) => {
      now += BigInt(Math.round(seconds * 1e9))
    })
  } finally {
    process.hrtime = real
  }
}

test('startTimer merges start and end labels as prom-client does, child timers included', async () => {
  const run = (lib) => {
    const registry = new lib.Registry()
    const registers = [registry]
    const labelNames = ['route', 'code']
    const h = new lib.Histogram({ name: 'timed_seconds', help: 'T.', labelNames, buckets: [0.005, 0.05, 0.5, 1, 2.5], registers })
    const g = new lib.Gauge({ name: 'last_run_seconds', help: 'L.', labelNames, registers })
    const returned = withFakeClock((advance) => {
      const out = []
      const startOnly = h.startTimer({ route: '/a' })
      advance(0.1)
      // Overlapping timers: each measures from its own start.
      const endOnly = h.startTimer()
      advance(0.15)
      out.push(startOnly({ code: '200' }))
      advance(0.002)
      out.push(endOnly({ route: '/b', code: '404' }))
      const overridden = h.startTimer({ route: '/a', code: '500' })
      advance(1.5)
      out.push(overridden({ code: '503' })) // the end label wins
      const complete = h.startTimer({ route: '/c', code: '201' })
      advance(0.0125)
      out.push(complete())
      const child = h.labels('/d', '200').startTimer()
      advance(3)
      out.push(child())
      const gaugeTimer = g.startTimer({ route: '/a' })
      advance(0.75)
      out.push(gaugeTimer({ code: '200' }))
      const gaugeOverridden = g.startTimer({ route: '/a', code: '200' })
      advance(0.5)
      out.push(gaugeOverridden({ code: '500' }))
      return out
    })
    return { registry, returned }
  }
  const a = run(m)
  const b = run(prom)
  assert.deepEqual(a.returned.map((s) => Math.round(s * 1e9)), b.returned.map((s) => Math.round(s * 1e9)))
  assertSameSamples(await a.registry.metrics(), await b.registry.metrics())
})

const summaryMissing = typeof m.Summary === 'function' ? false : 'metricore has no Summary yet (m.Summary is not exported)'

test('Summary: the same calls on prom-client and metricore give the same samples', { skip: summaryMissing }, async () => {
  // Seconds observed per method; 'get' also gets one 0.2 s timer observation.
  const observed = {
    get: [...latencies(5_000, 21, 100, 5e6, 9, 1).map((us) => us / 1e6), 0.2],
    put: latencies(2_000, 22, 100, 5e6, 10, 0.5).map((us) => us / 1e6),
  }
  const run = (lib) => {
    const registry = new lib.Registry()
    // No percentiles option: the default quantiles must be prom-client's too.
    const s = new lib.Summary({ name: 'rpc_seconds', help: 'R.', labelNames: ['method'], registers: [registry] })
    for (const v of observed.get.slice(0, -1)) s.observe({ method: 'get' }, v)
    const child = s.labels('put')
    for (const v of observed.put) child.observe(v)
    withFakeClock((advance) => {
      const end = s.startTimer({ method: 'get' })
      advance(0.2)
      end()
    })
    return registry
  }
  // prom-client's quantiles come from a t-digest whose compression shuffles with
  // Math.random, so they are not reproducible (p99.9 of 'put' came out 0.105 s and 1.33 s in
  // two runs): the quantile lines must match by name, counts and sums by value.
  const tolerance = (name) => (name.includes('quantile=') ? null : 1e-9)
  const ourSamples = assertSameSamples(await run(m).metrics(), await run(prom).metrics(), tolerance)
  // Ours are the nearest-rank values of what was observed, to HDR's 3 significant digits.
  let quantiles = 0
  for (const [name, v] of ourSamples) {
    const match = /method="(\w+)",quantile="([^"]+)"/.exec(name)
    if (match === null) continue
    const values = observed[match[1]].slice().sort((x, y) => x - y)
    const exact = values[Math.max(1, Math.ceil(Number(match[2]) * values.length)) - 1]
    assert.ok(Math.abs(v - exact) <= 1e-3 * exact, `${name}: ${v}, nearest rank ${exact}`)
    quantiles++
  }
  assert.ok(quantiles >= 2, `only ${quantiles} quantile lines`)
})
