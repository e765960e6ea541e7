'use strict'
// Differential test of metricore's prom-client API against prom-client 15.1.3 (the
// devDependency of bindings-node): sequences of API calls generated from seeds run through
// both libraries, and every observable result is compared: what each call returns or
// throws (the error's class and message), `await metric.get()`, `getMetricsAsJSON()`,
// `metrics()` in both content types, default labels, `Registry.merge`, reset and remove.
// A difference passes only through a normalization named in accepted-differences.json.
//
//   node tests/compat/node/run.js [--seeds N] [--seed S] [--verbose] [--dump (the ops of --seed S)]
//
// Prints one line per failing sequence (its seed, the step and both results) and ends with
// `N passed, M failed` (one per sequence).

const path = require('node:path')
const util = require('node:util')

const root = path.join(__dirname, '..', '..', '..')
const prom = require(path.join(root, 'bindings-node', 'node_modules', 'prom-client'))
const metricore = require(path.join(root, 'bindings-node'))
const ACCEPTED = new Set(require('./accepted-differences.json').differences.map((d) => d.id))

/** Applies an accepted difference: one that accepted-differences.json does not list is a bug here. */
function accepted(id) {
  if (!ACCEPTED.has(id)) throw new Error(`'${id}' is not in tests/compat/node/accepted-differences.json`)
  return true
}

function args() {
  const a = process.argv.slice(2)
  const get = (flag, dflt) => (a.includes(flag) ? Number(a[a.indexOf(flag) + 1]) : dflt)
  return { seeds: get('--seeds', 1000), seed: get('--seed', undefined), verbose: a.includes('--verbose'), dump: a.includes('--dump') }
}

/** mulberry32: a small seeded generator, the same sequence everywhere. */
function rng(seed) {
  let s = seed >>> 0
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n) => Math.floor(next() * n)
  return { next, int, pick: (xs) => xs[int(xs.length)], chance: (p) => next() < p }
}

const LABEL_NAMES = ['method', 'code', 'route', 'tier']
// No value is empty: an empty value is how a left-out label is recorded (missing-labels-are-empty).
const LABEL_VALUES = ['GET', 'POST', '200', '404', '/a/b', 'x y', 'q"uote', 'back\\slash', 'new\nline']
const GOOD_VALUES = [0, 1, 2, 0.5, 3.25, 10, 100, 1e-3, 12345.678, 1e6]
const SIGNED_VALUES = [...GOOD_VALUES, -1, -0.5, -250]

/** A sequence of operations (plain data, run identically against both libraries). */
function generate(seed) {
  const r = rng(seed)
  const ops = []
  const metrics = [] // {kind, labelNames}
  const defaults = [false, false] // whether a registry has default labels
  const types = ['prometheus', 'openmetrics']
  ops.push({ op: 'registries', types: [r.pick(types), r.pick(types)] })
  const newMetric = () => {
    const kind = r.pick(['counter', 'counter', 'gauge', 'gauge', 'histogram', 'summary'])
    const labelNames = r.chance(0.3) ? [] : LABEL_NAMES.slice(0, 1 + r.int(3))
    let name = `m${metrics.length}_${kind}${kind === 'counter' && r.chance(0.5) ? '_total' : ''}`
    let registers = r.pick(['default0', 'r1', 'both', 'none'])
    if (metrics.length > 0 && r.chance(0.05)) {
      // A name taken: in the same registries, where both libraries refuse it before registering it anywhere.
      const first = ops.find((o) => o.op === 'metric')
      name = first.name
      if (accepted('refused-metric-not-registered')) registers = first.registers
    }
    const o = { op: 'metric', kind, name, help: `Help for ${name}.`, labelNames, registers }
    if (kind === 'histogram' && r.chance(0.5)) o.buckets = r.pick([[0.1, 1, 10], [1, 5], [0.005, 0.5, 50, 5000]])
    if (kind === 'summary') o.percentiles = r.pick([[0.5, 0.9, 0.99], [0.01, 0.5], undefined])
    if (r.chance(0.03)) o.name = 'bad-name'
    if (r.chance(0.03)) {
      o.labelNames = [kind === 'summary' ? 'quantile' : 'le']
      if ((kind === 'histogram' || kind === 'summary') && accepted('refused-metric-not-registered')) o.registers = 'none'
    }
    if (r.chance(0.02)) delete o.help
    ops.push(o)
    metrics.push({ kind, labelNames: o.labelNames })
  }
  for (let i = 1 + r.int(4); i > 0; i--) newMetric()
  const labelsFor = (m) => {
    const out = {}
    for (const n of m.labelNames) if (!r.chance(0.08)) out[n] = r.chance(0.1) ? 200 : r.pick(LABEL_VALUES)
    if (r.chance(0.03)) out.unknown_label = 'x'
    return out
  }
  const steps = 5 + r.int(40)
  for (let i = 0; i < steps; i++) {
    const mi = r.int(metrics.length)
    const m = metrics[mi]
    const labels = labelsFor(m)
    const how = m.labelNames.length === 0 ? r.pick(['plain', 'object']) : r.pick(['object', 'object', 'positional', 'child'])
    const roll = r.next()
    if (roll < 0.55) {
      const verb = m.kind === 'counter' ? 'inc' : m.kind === 'gauge' ? r.pick(['inc', 'dec', 'set', 'set']) : 'observe'
      let value
      if (m.kind === 'counter') value = r.chance(0.2) ? undefined : r.chance(0.05) ? r.pick([-1, '3ms']) : r.pick(GOOD_VALUES)
      else if (m.kind === 'gauge') value = r.chance(0.05) ? r.pick(['x', null]) : r.pick(SIGNED_VALUES)
      else value = r.chance(0.05) ? r.pick(['asd', NaN, Infinity]) : r.pick(SIGNED_VALUES)
      if (verb === 'observe' && how === 'plain' && (typeof value !== 'number' || Number.isNaN(value)) && accepted('observe-refusal-message')) continue
      if (verb === 'dec' && Number.isNaN(-value) && accepted('gauge-dec-nan-refused')) continue
      const refused = typeof value !== 'number' || Number.isNaN(value) || !Number.isFinite(value) || (m.kind === 'counter' && value < 0)
      if (refused && (how === 'child' || how === 'positional') && accepted('labels-creates-series')) continue
      const positional = m.labelNames.map((n) => labels[n] ?? 'p')
      if (how === 'positional' && r.chance(0.05)) positional.pop()
      ops.push({ op: 'record', m: mi, verb, how, labels, positional, value })
    } else if (roll < 0.62) {
      if (m.labelNames.length === 0 && accepted('unlabelled-remove-zeroes')) continue
      ops.push({ op: 'remove', m: mi, how: r.pick(['object', 'positional']), labels, positional: m.labelNames.map((n) => labels[n] ?? 'p').slice(0, r.chance(0.1) ? 1 : undefined) })
    } else if (roll < 0.66) {
      ops.push({ op: 'reset', m: mi })
    } else if (roll < 0.69 && m.kind === 'histogram') {
      if ('unknown_label' in labels && accepted('zero-validates-labels')) continue
      ops.push({ op: 'zero', m: mi, labels })
    } else if (roll < 0.8) {
      ops.push({ op: 'get', m: mi })
    } else if (roll < 0.86) {
      const reg = r.int(2)
      if (defaults[reg] && accepted('json-default-labels-not-stored')) continue
      ops.push({ op: 'json', reg })
    } else if (roll < 0.93) {
      ops.push({ op: 'text', reg: r.int(2) })
    } else if (roll < 0.95) {
      ops.push({ op: 'contentType', reg: r.int(2), type: r.pick([...types, 'text/html']) })
    } else if (roll < 0.97) {
      const reg = r.int(2)
      const labels = r.chance(0.3) ? {} : { env: r.pick(['prod', 'dev']) }
      defaults[reg] = defaults[reg] || Object.keys(labels).length > 0
      ops.push({ op: 'defaultLabels', reg, labels })
    } else if (roll < 0.985) {
      if ((defaults[0] || defaults[1]) && accepted('json-default-labels-not-stored')) continue
      ops.push({ op: 'merge' })
    } else {
      newMetric()
    }
  }
  ops.push({ op: 'text', reg: 0 }, { op: 'text', reg: 1 })
  for (const reg of [0, 1]) if (!defaults[reg]) ops.push({ op: 'json', reg })
  return ops
}

const CONTENT_TYPES = { prometheus: 'PROMETHEUS_CONTENT_TYPE', openmetrics: 'OPENMETRICS_CONTENT_TYPE', 'text/html': null }

/** One library's side of a sequence: its registries and metrics. */
class Side {
  constructor(lib) {
    this.lib = lib
    this.regs = []
    this.metrics = []
  }

  contentType(t) {
    const key = CONTENT_TYPES[t]
    return key === null ? t : this.lib.Registry[key]
  }

  async run(o) {
    const L = this.lib
    switch (o.op) {
      case 'registries':
        this.regs = o.types.map((t) => new L.Registry(this.contentType(t)))
        return undefined
      case 'metric': {
        const Class = { counter: L.Counter, gauge: L.Gauge, histogram: L.Histogram, summary: L.Summary }[o.kind]
        const registers = { default0: [this.regs[0]], r1: [this.regs[1]], both: this.regs, none: [] }[o.registers]
        const config = { name: o.name, help: o.help, labelNames: o.labelNames, registers }
        if (o.buckets) config.buckets = o.buckets
        if (o.percentiles) config.percentiles = o.percentiles
        this.metrics.push(null)
        const metric = new Class(config)
        this.metrics[this.metrics.length - 1] = metric
        return { name: metric.name }
      }
      case 'record': {
        const m = this.metric(o.m)
        const v = o.value
        if (o.how === 'plain') return v === undefined ? m[o.verb]() : m[o.verb](v)
        if (o.how === 'object') return v === undefined ? m[o.verb](o.labels) : m[o.verb](o.labels, v)
        const child = o.how === 'positional' ? m.labels(...o.positional) : m.labels(o.labels)
        return v === undefined ? child[o.verb]() : child[o.verb](v)
      }
      case 'remove': {
        const m = this.metric(o.m)
        return o.how === 'object' ? m.remove(o.labels) : m.remove(...o.positional)
      }
      case 'reset':
        return this.metric(o.m).reset()
      case 'zero':
        return this.metric(o.m).zero(o.labels)
      case 'get':
        return normalizeMetric(await this.metric(o.m).get())
      case 'json':
        return (await this.regs[o.reg].getMetricsAsJSON()).map(normalizeMetric)
      case 'text':
        return { contentType: this.regs[o.reg].contentType, names: this.regs[o.reg].getMetricsAsArray().map(metricName), text: normalizeText(await this.regs[o.reg].metrics()) }
      case 'contentType':
        this.regs[o.reg].setContentType(this.contentType(o.type))
        return this.regs[o.reg].contentType
      case 'defaultLabels':
        return this.regs[o.reg].setDefaultLabels(o.labels)
      case 'merge': {
        const merged = L.Registry.merge(this.regs)
        return { text: normalizeText(await merged.metrics()), json: (await merged.getMetricsAsJSON()).map(normalizeMetric) }
      }
      default:
        throw new Error(`unknown op ${o.op}`)
    }
  }

  metric(i) {
    const m = this.metrics[i]
    if (m === null || m === undefined) throw new Skip()
    return m
  }
}

/** A metric's name as compared. */
function metricName(m) {
  return m.type === 'counter' && accepted('openmetrics-render-keeps-counter-name') ? m.name.replace(/_total$/, '') : m.name
}

/** An operation on a metric that was not made (its constructor threw on both sides). */
class Skip extends Error {}

/** A label set as compared: values as strings, empty ones (left-out names) dropped. */
function normalizeLabels(labels, type) {
  const out = {}
  for (const k of Object.keys(labels || {}).sort()) {
    let v = labels[k]
    const own = (type === 'histogram' && k === 'le') || (type === 'summary' && k === 'quantile')
    if (typeof v === 'number' && !own && accepted('label-values-are-strings')) v = String(v)
    if (v === '' && accepted('missing-labels-are-empty')) continue
    out[k] = v
  }
  return out
}

function seriesKey(labels, type) {
  const rest = { ...labels }
  if (type === 'histogram') delete rest.le
  if (type === 'summary') delete rest.quantile
  return JSON.stringify(rest)
}

/** A get() result as compared (see the accepted differences it applies). */
function normalizeMetric(r) {
  const values = (r.values || []).map((v) => {
    const out = { labels: normalizeLabels(v.labels, r.type), value: Object.is(v.value, -0) && accepted('negative-zero') ? 0 : v.value }
    if (v.metricName !== undefined) out.metricName = v.metricName
    const summed = r.type === 'counter' || (out.metricName || '').endsWith('_sum')
    if (typeof out.value === 'number' && summed && accepted('fractional-sum-rounding')) out.value = Number(out.value.toPrecision(12))
    if (v.exemplar !== undefined) out.exemplar = v.exemplar
    if (r.type === 'summary' && v.labels && v.labels.quantile !== undefined && accepted('summary-quantile-values')) out.value = '(quantile)'
    return out
  })
  if (accepted('series-order')) {
    // A stable sort by series keeps each series' buckets, quantiles, _sum and _count in order.
    const key = (v) => seriesKey(v.labels, r.type)
    values.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  }
  let name = r.name
  if (r.type === 'counter' && accepted('openmetrics-render-keeps-counter-name')) name = name.replace(/_total$/, '')
  return { name, help: r.help, type: r.type, aggregator: r.aggregator, values }
}

/** An exposition as compared: each family's sample lines sorted, empty labels and summary quantile values set aside. */
function normalizeText(text) {
  const families = []
  let current = null
  const eof = text.endsWith('# EOF\n')
  for (const line of text.split('\n')) {
    if (line === '' || line === '# EOF') continue
    if (line.startsWith('# HELP ') || current === null) {
      current = { head: [], samples: [] }
      families.push(current)
    }
    if (line.startsWith('#')) current.head.push(line)
    else current.samples.push(line)
  }
  return families
    .filter((f) => !(f.head.some((l) => l.startsWith('# TYPE metricore_saturated_values')) && accepted('histogram-saturation-family')))
    .map((f) => normalizeFamily(f))
    .concat(eof ? ['# EOF'] : [])
    .join('\n')
}

function normalizeFamily({ head, samples }) {
  const typeLine = head.find((l) => l.startsWith('# TYPE '))
  const [, , name, type] = typeLine === undefined ? [] : typeLine.split(' ')
  let lines = head.slice()
  let out = samples.map((line) => normalizeSample(line, type))
  if (type === 'counter' && name.endsWith('_total') && accepted('openmetrics-render-keeps-counter-name')) {
    // prom-client's 0.0.4 text after an OpenMetrics render names the family NAME, not NAME_total.
    const bare = name.slice(0, -'_total'.length)
    const rename = (l) => (l.startsWith(name) ? bare + l.slice(name.length) : l)
    lines = lines.map((l) => l.replace(` ${name} `, ` ${bare} `))
    out = out.map(rename)
  }
  if (accepted('series-order')) out.sort()
  return [...lines, ...out].join('\n')
}

function normalizeSample(line, type) {
  let out = line
  if (accepted('missing-labels-are-empty')) {
    out = out
      .replace(/([{,])[a-zA-Z_]\w*=""(?=[,}])/g, '$1')
      .replace(/,{2,}/g, ',')
      .replace(/\{,/, '{')
      .replace(/,\}/, '}')
      .replace(/\{\}/, '')
  }
  if (type === 'summary' && /quantile="/.test(out) && accepted('summary-quantile-values')) out = out.replace(/ \S+$/, ' (quantile)')
  if ((type === 'counter' || /_sum[{ ]/.test(out)) && accepted('fractional-sum-rounding')) {
    out = out.replace(/ (\S+)$/, (_, v) => ` ${Number(Number(v).toPrecision(12))}`)
  }
  return out
}

/** What a call did: its value, or the class and message of what it threw. */
async function outcome(side, o) {
  try {
    let value = await side.run(o)
    if (o.op === 'record' && o.verb === 'inc' && side.metrics[o.m] instanceof side.lib.Counter && accepted('counter-inc-returns-nothing')) value = undefined
    return { value }
  } catch (e) {
    if (e instanceof Skip) return { skipped: true }
    return { threw: { class: e && e.constructor ? e.constructor.name : typeof e, message: e && e.message } }
  }
}

/** The first place two results differ, for the report. */
function firstDifference(a, b, path) {
  if (util.isDeepStrictEqual(a, b)) return null
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return { path, a, b }
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return { path: `${path}.length`, a: a.length, b: b.length }
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = firstDifference(a[k], b[k], `${path}.${k}`)
    if (d !== null) return d.path.split('.').length > 4 ? { path: `${path}.${k}`, a: a[k], b: b[k] } : d
  }
  return { path, a, b }
}

async function runSequence(seed, verbose) {
  const ops = generate(seed)
  // prom-client's Registry.merge and default metrics touch its global registry; each
  // sequence uses registries of its own, so the globals are left alone.
  const theirs = new Side(prom)
  const ours = new Side(metricore)
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]
    const [a, b] = [await outcome(theirs, o), await outcome(ours, o)]
    if (a.skipped && b.skipped) continue
    if (!util.isDeepStrictEqual(a, b)) {
      const ta = a.value && typeof a.value.text === 'string' ? a.value.text.split('\n') : null
      const tb = b.value && typeof b.value.text === 'string' ? b.value.text.split('\n') : null
      if (ta !== null && tb !== null) {
        const onlyA = ta.filter((l) => !tb.includes(l))
        const onlyB = tb.filter((l) => !ta.includes(l))
        const rest = (v) => JSON.stringify({ ...v.value, text: undefined })
        return `seed ${seed} step ${i} ${JSON.stringify(o)}: texts differ\n  only prom-client: ${JSON.stringify(onlyA)} ${rest(a)}\n  only metricore:   ${JSON.stringify(onlyB)} ${rest(b)}`
      }
      const where = firstDifference(a, b, '')
      if (where !== null) return `seed ${seed} step ${i} ${JSON.stringify(o)}: at ${where.path}\n  prom-client: ${util.inspect(where.a, { depth: 4, breakLength: Infinity })}\n  metricore:   ${util.inspect(where.b, { depth: 4, breakLength: Infinity })}`
      return `seed ${seed} step ${i} ${JSON.stringify(o)}:\n  prom-client: ${util.inspect(a, { depth: 6, breakLength: Infinity })}\n  metricore:   ${util.inspect(b, { depth: 6, breakLength: Infinity })}`
    }
    if (verbose) console.log(`seed ${seed} step ${i} ${o.op}: same`)
  }
  return null
}

async function main() {
  const { seeds, seed, verbose, dump } = args()
  if (dump) {
    for (const o of generate(seed)) console.log(JSON.stringify(o))
    return
  }
  const list = seed === undefined ? Array.from({ length: seeds }, (_, i) => i + 1) : [seed]
  let passed = 0
  let failed = 0
  for (const s of list) {
    const failure = await runSequence(s, verbose)
    if (failure === null) passed++
    else {
      failed++
      if (failed <= 20) console.log(failure)
    }
  }
  console.log(`accepted differences: ${[...ACCEPTED].join(', ')}`)
  console.log(`${passed} passed, ${failed} failed`)
  process.exitCode = failed === 0 ? 0 : 1
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 2
})
