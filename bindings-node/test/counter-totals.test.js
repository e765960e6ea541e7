'use strict'
// Counter totals past what a double counts exactly: increments pending in a lane (a
// double) whose sum would pass 2^53 reach the core whole, and the exposition shows the
// exact total, worked out here with BigInt.
const test = require('node:test')
const assert = require('node:assert/strict')
const m = require('..')

/** The sample value of `name` in Prometheus text, as written (not parsed to a double). */
function written(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  assert.ok(line !== undefined, `no ${name} in\n${text}`)
  return line.slice(name.length + 1)
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
    assert.equal(c.get(), Number(exact), name)
    assert.equal(written(reg.metricsSync(), `${name}_total`), String(exact), name)
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
  assert.equal(written(reg.metricsSync(), 'kept_big_total{k="x"}'), String(exact))
})
