'use strict'
// The cross-language golden cases of tests/fixtures/*.json, run through the Node API.
// Mirrors core/tests/fixtures.rs and bindings-python/tests/test_fixtures.py and follows
// tests/fixtures/README.md to the letter: unknown keys, ops or kinds fail the case, so a
// typo in a fixture cannot silently test nothing. Expectations are read from a collection
// (registry.gather()), never through lookups.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const metricore = require('..')

const FIXTURES = path.join(__dirname, '..', '..', 'tests', 'fixtures')
const DECL_KEYS = new Set(['kind', 'name', 'help', 'labels', 'unit', 'cardinality_limit', 'lowest', 'highest', 'significant_figures', 'resolution', 'buckets'])
const HISTOGRAM_KEYS = new Set(['lowest', 'highest', 'significant_figures', 'resolution', 'buckets'])
const OP_KEYS = new Set(['op', 'metric', 'labels', 'value', 'count', 'error', 'error_metric', 'from', 'from_labels', 'blob_hex', 'encoding', 'into', 'into_labels', 'note'])
const SERIES_KEYS = new Set(['metric', 'family', 'labels', 'value', 'count', 'sum', 'min', 'max', 'saturated', 'quantiles', 'buckets', 'note'])
const KIND_BY_CODE = {
  ERR_METRICORE_INVALID_NAME: 'invalid_name',
  ERR_METRICORE_INVALID_LABELS: 'invalid_labels',
  ERR_METRICORE_CONFLICT: 'conflict',
  ERR_METRICORE_INVALID_VALUE: 'invalid_value',
  ERR_METRICORE_INVALID_CONFIG: 'invalid_config',
  ERR_METRICORE_INVALID_EXEMPLAR: 'invalid_exemplar',
  ERR_METRICORE_CORRUPT_BLOB: 'corrupt_blob',
}

class BrokenFixture extends Error {}

function onlyKeys(obj, allowed, what) {
  for (const k of Object.keys(obj)) if (!allowed.has(k)) throw new BrokenFixture(`${what}: unknown key '${k}'`)
}
function asFloat(v, what) {
  if (typeof v === 'number') return v
  if (v === 'NaN') return NaN
  if (v === '+Inf') return Infinity
  if (v === '-Inf') return -Infinity
  throw new BrokenFixture(`${what} must be a number or 'NaN', '+Inf', '-Inf', not ${JSON.stringify(v)}`)
}
function asUint(v, what) {
  if (!Number.isSafeInteger(v) || v < 0) throw new BrokenFixture(`${what} must be a non-negative integer, not ${JSON.stringify(v)}`)
  return v
}
function close(got, want) {
  return (Number.isNaN(got) && Number.isNaN(want)) || got === want || Math.abs(got - want) <= 1e-9 * Math.max(Math.abs(got), Math.abs(want))
}

class Case {
  constructor() {
    this.registry = new metricore.Registry()
    this.metrics = new Map() // key -> {metric, decl}
  }

  register(decl) {
    onlyKeys(decl, DECL_KEYS, 'metric declaration')
    const { kind, name } = decl
    if (kind !== 'histogram' && Object.keys(decl).some((k) => HISTOGRAM_KEYS.has(k))) {
      throw new BrokenFixture(`${name}: histogram option on a ${kind}`)
    }
    // The fixtures hold the core's registration rules (the same shape registers once, the
    // core's default bounds), so families are registered through the addon's registry; the
    // prom-client skin's own rules (a second registration throws, prom-client's default
    // buckets) are checked against prom-client in tests/compat/node.
    const opts = { name, help: decl.help ?? '', labelNames: decl.labels ?? [], unit: decl.unit }
    if ('cardinality_limit' in decl) opts.cardinalityLimit = asUint(decl.cardinality_limit, 'cardinality_limit')
    const reg = this.registry._native
    let metric
    if (kind === 'counter') metric = { kind, family: reg.counterFamily(opts) }
    else if (kind === 'gauge') metric = { kind, family: reg.gaugeFamily(opts) }
    else if (kind === 'histogram') {
      const h = {}
      if ('buckets' in decl) h.buckets = decl.buckets.map((b) => asFloat(b, 'bucket bound'))
      if ('lowest' in decl) h.lowest = asUint(decl.lowest, 'lowest')
      if ('highest' in decl) h.highest = asUint(decl.highest, 'highest')
      if ('significant_figures' in decl) h.significantFigures = asUint(decl.significant_figures, 'significant_figures')
      if ('resolution' in decl) h.resolution = decl.resolution
      metric = { kind, family: reg.histogramFamily(opts, h) }
    } else throw new BrokenFixture(`unknown metric kind '${kind}'`)
    return [name, { metric, decl }]
  }

  entry(key) {
    const e = this.metrics.get(key)
    if (e === undefined) throw new BrokenFixture(`no metric declared as '${key}'`)
    return e
  }

  /** The native series of `key` for label values. */
  series(key, labels) {
    return this.entry(key).metric.family.labels(labels.map(String))
  }

  histogram(key, labels) {
    if (this.entry(key).metric.kind !== 'histogram') throw new BrokenFixture(`'${key}' is not a histogram`)
    return this.series(key, labels)
  }

  run(op) {
    const name = op.op
    if (name === 'register') {
      const [key, e] = this.register(op.metric)
      if (!this.metrics.has(key)) this.metrics.set(key, e)
      return
    }
    const key = op.metric
    const labels = op.labels ?? []
    const value = op.value
    const m = this.entry(key).metric
    if (m.kind === 'counter' && name === 'inc') {
      this.series(key, labels).inc(value === undefined ? undefined : asUint(value, 'counter increment'))
    } else if (m.kind === 'gauge' && ['inc', 'dec', 'set', 'add', 'sub'].includes(name)) {
      if (value === undefined && name !== 'inc' && name !== 'dec') throw new BrokenFixture(`${name} needs a 'value'`)
      const x = value === undefined ? 1 : asFloat(value, 'gauge value')
      const g = this.series(key, labels)
      if (name === 'inc' || name === 'add') g.inc(x)
      else if (name === 'dec' || name === 'sub') g.dec(x)
      else g.set(x)
    } else if (m.kind === 'histogram' && name === 'record') {
      this.histogram(key, labels).record(asUint(value, 'recorded integer'), asUint(op.count ?? 1, 'count'))
    } else if (m.kind === 'histogram' && (name === 'observe' || name === 'record_ms')) {
      const x = asFloat(value, 'value')
      const h = this.histogram(key, labels)
      if (name === 'observe') h.observe(x)
      else h.recordMs(x)
    } else if (m.kind === 'histogram' && name === 'merge') {
      const source = this.histogram(op.from, op.from_labels ?? [])
      this.histogram(key, labels).merge(source.snapshot())
    } else if (m.kind === 'histogram' && name === 'merge_v2') {
      const target = this.histogram(key, labels)
      const blob = Buffer.from(op.blob_hex, 'hex')
      target.merge(metricore.decodeV2(blob, this.entry(key).decl.resolution))
    } else if (m.kind === 'histogram' && name === 'v2_round_trip') {
      const encoding = op.encoding ?? 'plain'
      if (encoding !== 'plain' && encoding !== 'deflate') throw new BrokenFixture(`unknown encoding '${encoding}'`)
      const target = this.histogram(op.into, op.into_labels ?? [])
      const blob = this.histogram(key, labels).snapshot().encodeV2(encoding === 'deflate')
      target.merge(metricore.decodeV2(blob, this.entry(key).decl.resolution))
    } else {
      throw new BrokenFixture(`op '${name}' does not apply to '${key}'`)
    }
  }
}

function checkOutcome(op, error) {
  const want = op.error
  if (want !== undefined && !Object.values(KIND_BY_CODE).includes(want)) throw new BrokenFixture(`unknown error kind '${want}'`)
  if (error === undefined) return want ? `succeeded, but should fail with ${want}` : undefined
  const kind = KIND_BY_CODE[error.code]
  if (kind === undefined) return `threw ${error.name} ${error.code}: ${error.message}, which is not a metricore error`
  if (want === undefined) return `failed unexpectedly: ${kind} (${error.message})`
  if (kind !== want) return `failed with ${kind} (${error.message}), but should fail with ${want}`
  if (!(error instanceof TypeError) && !(error instanceof RangeError)) return `${error.name} is not a TypeError or RangeError`
  const wm = op.error_metric
  if (wm !== undefined && !error.message.startsWith(`metric '${wm}': `)) return `the error should name metric '${wm}': ${error.message}`
  return undefined
}

function checkHistogram(s, want) {
  if ('value' in want) throw new BrokenFixture("a histogram series has no 'value'")
  const bad = []
  for (const key of ['count', 'min', 'max', 'saturated']) {
    if (key in want && asUint(want[key], key) !== s[key]) bad.push(`${key}: got ${s[key]}, want ${want[key]}`)
  }
  if ('sum' in want && !close(s.sum, asFloat(want.sum, 'sum'))) bad.push(`sum: got ${s.sum}, want ${want.sum}`)
  for (const q of want.quantiles ?? []) {
    onlyKeys(q, new Set(['q', 'value']), 'quantile')
    const got = s.valueAtQuantile(q.q)
    if (got !== asUint(q.value, 'quantile value')) bad.push(`quantile ${q.q}: got ${got}, want ${q.value}`)
  }
  if ('buckets' in want) {
    const wanted = want.buckets.map((b) => {
      onlyKeys(b, new Set(['le', 'count']), 'bucket')
      return [asFloat(b.le, 'le'), asUint(b.count, 'bucket count')]
    })
    const got = s.buckets().map((b) => [b.le, b.count])
    if (got.length !== wanted.length || got.some((g, i) => !close(g[0], wanted[i][0]) || g[1] !== wanted[i][1])) {
      bad.push(`buckets: got ${JSON.stringify(got)}, want ${JSON.stringify(wanted)}`)
    }
  }
  return bad
}

function checkExpect(c, expect) {
  onlyKeys(expect, new Set(['families', 'series']), 'expect')
  const gathered = c.registry._native.gather()
  const bad = []
  if ('families' in expect) {
    const got = gathered.map((f) => f.name)
    if (JSON.stringify(got) !== JSON.stringify(expect.families)) bad.push(`families: got ${JSON.stringify(got)}, want ${JSON.stringify(expect.families)}`)
  }
  for (const want of expect.series ?? []) {
    onlyKeys(want, SERIES_KEYS, 'expected series')
    if (('metric' in want) === ('family' in want)) throw new BrokenFixture("an expected series names either 'metric' or 'family'")
    const name = 'metric' in want ? c.entry(want.metric).metric.family.name : want.family
    const labels = JSON.stringify(want.labels ?? [])
    const what = `series ${name}${labels}`
    let found
    for (const f of gathered) {
      if (f.name !== name) continue
      for (let i = 0; i < f.size; i++) if (JSON.stringify(f.labels(i)) === labels) found = [f, i]
    }
    if (found === undefined) {
      bad.push(`${what}: not collected`)
      continue
    }
    const [family, i] = found
    let errs = []
    if (family.kind === 'histogram') errs = checkHistogram(family.histogram(i), want)
    else {
      onlyKeys(want, new Set(['metric', 'family', 'labels', 'value', 'note']), 'expected counter or gauge series')
      const got = family.value(i)
      if ('value' in want) {
        if (family.kind === 'counter' ? got !== asUint(want.value, 'value') : !close(got, asFloat(want.value, 'value'))) {
          errs.push(`value: got ${got}, want ${want.value}`)
        }
      }
    }
    bad.push(...errs.map((e) => `${what}: ${e}`))
  }
  return bad
}

function runCase(kase) {
  onlyKeys(kase, new Set(['name', 'description', 'note', 'metrics', 'ops', 'expect']), 'case')
  const c = new Case()
  for (const decl of kase.metrics ?? []) {
    const [key, e] = c.register(decl) // declarations must succeed
    if (c.metrics.has(key)) throw new BrokenFixture(`'${key}' is declared twice`)
    c.metrics.set(key, e)
  }
  const failures = []
  ;(kase.ops ?? []).forEach((op, i) => {
    onlyKeys(op, OP_KEYS, 'op')
    let error
    try {
      c.run(op)
    } catch (e) {
      if (e instanceof BrokenFixture) throw e
      error = e
    }
    const msg = checkOutcome(op, error)
    if (msg) failures.push(`op #${i} ${JSON.stringify(op)}: ${msg}`)
  })
  if ('expect' in kase) failures.push(...checkExpect(c, kase.expect).map((e) => `expect: ${e}`))
  return failures
}

const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()
test('every fixture file has cases', () => {
  assert.ok(files.length >= 7, `fixtures found: ${files}`)
})
for (const file of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'))
  onlyKeys(doc, new Set(['description', 'cases']), file)
  test.describe(file, () => {
    assert.ok(doc.cases.length > 0)
    for (const kase of doc.cases) {
      test(kase.name, () => {
        const failures = runCase(kase)
        assert.deepEqual(failures, [], failures.join('\n'))
      })
    }
  })
}
