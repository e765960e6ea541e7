'use strict'
// Counter totals past what a double counts exactly: increments pending in a lane (a
// double) whose sum would pass 2^53 reach the core whole, and every read shows the total
// worked out here with BigInt, to a double's precision. And what prom-client takes besides whole
// numbers (fractions, 1e300) gives the total prom-client gives.
const test = require('node:test')
const assert = require('node:assert/strict')
const m = require('..')

/** The sample value of `name` in Prometheus text, as written (not parsed to a double). */
function written(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  assert.ok(line !== undefined, `no ${name} in\n${text}`)
  return line.slice(name.length + 1)
}

/**
 * A total read as a double is `exact` to the double's precision: the core keeps whole
 * increments exactly and reads the total out as a double (16 significant digits).
 */
function near(got, exact, what) {
  const want = Number(exact)
  assert.ok(Math.abs(got - want) <= want * 2 ** -52, `${what}: ${got}, exact ${exact}`)
}

test('increments whose pending sum passes 2^53 all arrive', () => {
  const reg = new m.Registry()
  const cases = [
    // [name, increments]
    ['ten_1e15', Array(10).fill(1e15)],
    ['two_max_safe', [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]],
    ['max_safe_then_ones', [Number.MAX_SAFE_INTEGER, undefined, undefined, undefined]],
    ['near_max_then_more', [2 ** 52, 2 ** 52, 2 ** 52, 5, 2 ** 53 - 7]],
  ]
  for (const [name, increments] of cases) {
    const c = new m.Counter({ name, help: 'C.', registers: [reg] })
    for (const v of increments) c.inc(v)
    const exact = increments.reduce((sum, v) => sum + BigInt(v ?? 1), 0n)
    near(c.value(), exact, name)
    near(Number(written(reg.metricsSync(), name)), exact, name)
  }
})

test('a child kept across the 2^53 boundary keeps counting on both sides of it', () => {
  const reg = new m.Registry()
  const c = new m.Counter({ name: 'kept_big', help: 'C.', labelNames: ['k'], registers: [reg] })
  const child = c.labels('x')
  child.inc(2 ** 53 - 2)
  for (let i = 0; i < 10; i++) child.inc()
  child.inc(2 ** 53 - 1)
  for (let i = 0; i < 10; i++) child.inc()
  const exact = 2n ** 53n - 2n + 10n + 2n ** 53n - 1n + 10n
  near(Number(written(reg.metricsSync(), 'kept_big{k="x"}')), exact, 'kept_big')
})

test('fractional and huge increments give the totals prom-client gives', async () => {
  const prom = require('prom-client')
  const preg = new prom.Registry()
  const mreg = new m.Registry()
  const sequences = {
    halves: [0.5, 0.5, 0.25, 0.125, undefined, 2],
    tenths: Array(10).fill(0.1),
    huge: [1e300, 1, 1e300],
    past_2_64: [2 ** 64, 2 ** 70, 3],
    mixed: [1, 0.5, 1e15, 0.001, 7, 1e16, 0.25],
    zero: [0, 0.0, 0],
  }
  for (const [name, increments] of Object.entries(sequences)) {
    const ours = new m.Counter({ name, help: 'C.', registers: [mreg] })
    const theirs = new prom.Counter({ name, help: 'C.', registers: [preg] })
    const child = new m.Counter({ name: `${name}_child`, help: 'C.', labelNames: ['k'], registers: [mreg] }).labels('x')
    for (const v of increments) {
      ours.inc(v)
      theirs.inc(v)
      child.inc(v)
    }
    const want = (await theirs.get()).values[0].value
    for (const got of [ours.value(), child.get()]) {
      assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${name}: ${got}, prom-client ${want}`)
    }
  }
  const text = mreg.metricsSync()
  assert.match(text, /^halves 4\.375$/m)
  assert.match(text, /^huge 2e\+300$/m)
})

test('refused increments add nothing, pending ones stay', () => {
  const reg = new m.Registry()
  const c = new m.Counter({ name: 'refused', help: 'C.', registers: [reg] })
  c.inc(0.5)
  // prom-client's classes and messages; NaN, which prom-client would add, is refused too.
  for (const v of [-1, -0.5]) {
    assert.throws(() => c.inc(v), (e) => e.constructor === Error && e.code === 'ERR_METRICORE_INVALID_VALUE' && e.metric === 'refused' && e.message === 'It is not possible to decrease a counter', String(v))
  }
  for (const v of [NaN, Infinity, -Infinity]) {
    assert.throws(() => c.inc(v), (e) => e.name === 'TypeError' && e.code === 'ERR_METRICORE_INVALID_TYPE' && e.metric === 'refused' && e.message === `Value is not a valid number: ${v}`, String(v))
  }
  assert.equal(c.value(), 0.5)
})
