'use strict'
// metricore/shadow: Scientist semantics (the caller sees only the control, candidates never
// throw to it, random order, sampling, enabled, ignore, clean, publish, raiseOnMismatches),
// async arms, and the shadow metrics as they appear in the exposition. Randomness is injected
// through the `random` option so every test is deterministic.
const test = require('node:test')
const assert = require('node:assert/strict')
const m = require('..')
const { experiment } = require('../lib/shadow.js')
const { mulberry32 } = require('../test-support')

/** A random() that hands out the given draws in turn and fails the test if more are asked for. */
function scripted(...draws) {
  let i = 0
  return () => {
    assert.ok(i < draws.length, `random() called ${i + 1} times, only ${draws.length} draws scripted`)
    return draws[i++]
  }
}

/** The value of one sample line in an exposition, or undefined when the line is absent. */
function sample(text, name, labels) {
  const inner = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')
  const escaped = `${name}{${inner}}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const found = text.match(new RegExp(`^${escaped} (\\S+)$`, 'm'))
  return found === null ? undefined : Number(found[1])
}

/** A registry of its own, and its shadow counters for one experiment read from `await metrics()`. */
function setup(name) {
  const registry = new m.Registry()
  const read = async () => {
    const text = await registry.metrics()
    const e = { experiment: name }
    return {
      text,
      runs: sample(text, 'metricore_shadow_runs_total', e),
      mismatches: sample(text, 'metricore_shadow_mismatches_total', e),
      ignored: sample(text, 'metricore_shadow_ignored_total', e),
      candidateErrors: sample(text, 'metricore_shadow_candidate_errors_total', e),
      errors: (operation) => sample(text, 'metricore_shadow_errors_total', { experiment: name, operation }),
    }
  }
  return { registry, read }
}

function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

test('sync: same args and this to both arms, control value returned, match published', async () => {
  const { registry, read } = setup('sync-match')
  const seen = []
  const published = []
  const controlValue = { total: 3 }
  const run = experiment({
    name: 'sync-match',
    registry,
    control(a, b) { seen.push(['control', this, a, b]); return controlValue },
    candidate(a, b) { seen.push(['candidate', this, a, b]); return { total: a + b } },
    publish: (result) => published.push(result),
  })
  const self = { id: 'receiver' }
  assert.equal(run.call(self, 1, 2), controlValue)
  assert.deepEqual(seen.map((s) => s[0]).sort(), ['candidate', 'control'])
  for (const [, thisArg, a, b] of seen) assert.deepEqual([thisArg, a, b], [self, 1, 2])
  assert.equal(published.length, 1)
  const [result] = published
  assert.equal(result.name, 'sync-match')
  assert.equal(result.matched, true, 'deep equality is the default compare')
  assert.equal(result.ignored, false)
  assert.equal(result.control.value, controlValue)
  assert.deepEqual(result.candidate.value, { total: 3 })
  assert.equal(result.control.error, undefined)
  for (const arm of [result.control, result.candidate]) assert.ok(arm.durationMs >= 0 && arm.durationMs < 1000)
  const got = await read()
  assert.equal(got.runs, 1)
  assert.equal(got.mismatches, 0)
  assert.equal(got.ignored, 0)
  assert.equal(got.candidateErrors, 0)
})

test('a mismatch is counted in the exposition, and a clean experiment shows 0', async () => {
  const { registry, read } = setup('sync-diff')
  const run = experiment({ name: 'sync-diff', registry, control: (x) => x * 2, candidate: (x) => (x === 3 ? 7 : x * 2) })
  const before = await read()
  assert.equal(before.runs, 0)
  assert.equal(before.mismatches, 0)
  assert.deepEqual([1, 2, 3, 4, 3].map(run), [2, 4, 6, 8, 6])
  const got = await read()
  assert.equal(got.runs, 5)
  assert.equal(got.mismatches, 2)
  assert.match(got.text, /^metricore_shadow_mismatches_total\{experiment="sync-diff"\} 2$/m)
})

test('candidate exceptions are recorded, never thrown; the control result is the same object', async () => {
  const { registry, read } = setup('cand-throws')
  const controlValue = { rows: [1, 2] }
  const boom = new Error('candidate broke')
  const published = []
  const run = experiment({
    name: 'cand-throws',
    registry,
    control: () => controlValue,
    candidate: () => { throw boom },
    publish: (r) => published.push(r),
    random: scripted(0.9, 0.1), // control first, then candidate first
  })
  assert.equal(run(), controlValue)
  assert.equal(run(), controlValue)
  assert.equal(published[0].candidate.error, boom)
  assert.equal(published[0].candidate.value, undefined)
  assert.equal(published[0].matched, false)
  const got = await read()
  assert.equal(got.candidateErrors, 2)
  assert.equal(got.mismatches, 2)
})

test('control exceptions are rethrown unchanged; errors compare by constructor and message', async () => {
  const { registry, read } = setup('ctrl-throws')
  const controlError = new RangeError('bad id')
  const published = []
  let candidateThrows = () => new RangeError('bad id')
  let candidateRan = 0
  const run = experiment({
    name: 'ctrl-throws',
    registry,
    control: () => { throw controlError },
    candidate: () => { candidateRan++; const e = candidateThrows(); if (e) throw e; return 'fine' },
    publish: (r) => published.push(r),
  })
  assert.throws(run, (e) => e === controlError)
  assert.equal(candidateRan, 1, 'the candidate runs although the control throws')
  assert.equal(published.at(-1).matched, true, 'same constructor and message match')
  assert.equal(published.at(-1).control.error, controlError)
  candidateThrows = () => new RangeError('other message')
  assert.throws(run, (e) => e === controlError)
  assert.equal(published.at(-1).matched, false)
  candidateThrows = () => new TypeError('bad id')
  assert.throws(run, (e) => e === controlError)
  assert.equal(published.at(-1).matched, false)
  candidateThrows = () => undefined // candidate returns while the control throws
  assert.throws(run, (e) => e === controlError)
  assert.equal(published.at(-1).matched, false)
  const got = await read()
  assert.equal(got.runs, 4)
  assert.equal(got.mismatches, 3)
  assert.equal(got.candidateErrors, 3)
})

test('compareErrors replaces the error comparison', async () => {
  const { registry, read } = setup('cmp-errors')
  const codeOf = (e) => e.code
  const run = experiment({
    name: 'cmp-errors',
    registry,
    control: () => { throw Object.assign(new Error('legacy wording'), { code: 'E_GONE' }) },
    candidate: () => { throw Object.assign(new Error('new wording'), { code: 'E_GONE' }) },
    compareErrors: (a, b) => codeOf(a) === codeOf(b),
  })
  assert.throws(run, { message: 'legacy wording' })
  assert.equal((await read()).mismatches, 0)
})

test('async control: a Promise settling as the control does, after both arms settle', async () => {
  const { registry, read } = setup('async')
  const started = []
  const controlGate = deferred()
  const candidateGate = deferred()
  const value = { id: 7 }
  const run = experiment({
    name: 'async',
    registry,
    control: () => { started.push('control'); return controlGate.promise },
    candidate: async () => { started.push('candidate'); return candidateGate.promise },
  })
  const pending = run()
  assert.ok(pending instanceof Promise)
  assert.deepEqual(started.sort(), ['candidate', 'control'], 'both arms start before either is awaited')
  controlGate.resolve(value)
  await new Promise(setImmediate)
  assert.equal((await read()).runs, 0, 'not compared until the candidate settles too')
  candidateGate.resolve({ id: 8 })
  assert.equal(await pending, value)
  const got = await read()
  assert.equal(got.runs, 1)
  assert.equal(got.mismatches, 1)

  const rejection = new Error('control rejected')
  const failing = experiment({
    name: 'async',
    registry,
    control: async () => { throw rejection },
    candidate: () => { throw new Error('control rejected') }, // a sync candidate against an async control
  })
  await assert.rejects(failing(), (e) => e === rejection)
  const after = await read()
  assert.equal(after.runs, 2, 'a second experiment() with the same name shares its series')
  assert.equal(after.mismatches, 1, 'same constructor and message: a match')
  assert.equal(after.candidateErrors, 1)
})

test('sync control, async candidate: the control value at once, compared when the candidate settles', async () => {
  const { registry, read } = setup('async-candidate')
  const gate = deferred()
  const done = deferred()
  const run = experiment({
    name: 'async-candidate',
    registry,
    control: () => 'now',
    candidate: () => gate.promise,
    publish: done.resolve,
  })
  assert.equal(run(), 'now')
  assert.equal((await read()).runs, 0)
  gate.reject(new Error('late failure'))
  const result = await done.promise
  assert.equal(result.candidate.error.message, 'late failure')
  const got = await read()
  assert.equal(got.runs, 1)
  assert.equal(got.candidateErrors, 1)
  assert.equal(got.mismatches, 1)
})

test('sampleRate 0 never runs the candidate; a fraction runs it when the draw is below it', async () => {
  const { registry, read } = setup('sampled')
  let candidateRuns = 0
  let setups = 0
  const never = experiment({
    name: 'sampled',
    registry,
    control: () => 1,
    candidate: () => { candidateRuns++; return 1 },
    beforeRun: () => setups++,
    sampleRate: 0,
    random: () => 0,
  })
  for (let i = 0; i < 1000; i++) assert.equal(never(), 1)
  assert.equal(candidateRuns, 0)
  assert.equal(setups, 0, 'beforeRun only when the candidate runs')
  assert.equal((await read()).runs, 0)

  const some = experiment({
    name: 'sampled',
    registry,
    control: () => 1,
    candidate: () => { candidateRuns++; return 1 },
    beforeRun: () => setups++,
    sampleRate: 0.25,
    // per call: sampling draw, then (only when sampled) the order draw
    random: scripted(0.1, 0.9, 0.3, 0.2499, 0.2, 0.25, 0.99),
  })
  for (let i = 0; i < 5; i++) some()
  assert.equal(candidateRuns, 2)
  assert.equal(setups, 2)
  assert.equal((await read()).runs, 2)
})

test('enabled is checked per call; false, or a throw, runs the control only', async () => {
  const { registry, read } = setup('enabled')
  let on = false
  let candidateRuns = 0
  const run = experiment({
    name: 'enabled',
    registry,
    control: (x) => x,
    candidate: (x) => { candidateRuns++; return x },
    enabled: () => {
      if (on === 'broken') throw new Error('flag service down')
      return on
    },
  })
  assert.equal(run(1), 1)
  on = true
  assert.equal(run(2), 2)
  on = false
  assert.equal(run(3), 3)
  on = 'broken'
  assert.equal(run(4), 4)
  assert.equal(candidateRuns, 1)
  const got = await read()
  assert.equal(got.runs, 1)
  assert.equal(got.errors('enabled'), 1)
})

test('beforeRun that throws is recorded and skips the candidate', async () => {
  const { registry, read } = setup('before-run')
  let candidateRuns = 0
  const run = experiment({
    name: 'before-run',
    registry,
    control: () => 'ok',
    candidate: () => { candidateRuns++ },
    beforeRun: () => { throw new Error('no fixture') },
  })
  assert.equal(run(), 'ok')
  assert.equal(candidateRuns, 0)
  const got = await read()
  assert.equal(got.errors('beforeRun'), 1)
  assert.equal(got.runs, 0)
})

test('ignore: a mismatch any ignore function accepts is counted as ignored', async () => {
  const { registry, read } = setup('ignored')
  const seen = []
  const published = []
  const run = experiment({
    name: 'ignored',
    registry,
    control: (x) => x,
    candidate: (x) => (x < 0 ? -x : x > 0 ? x + 1 : x),
    ignore: [
      (control, candidate) => { seen.push([control, candidate]); return false },
      (control, candidate) => control.value < 0 && candidate.value === -control.value,
    ],
    publish: (r) => published.push(r),
  })
  assert.equal(run(-5), -5) // ignored by the second function
  assert.equal(run(5), 5) // a real mismatch
  assert.equal(run(0), 0) // matched: ignore functions are not consulted
  assert.equal(seen.length, 2)
  assert.equal(seen[0][0].value, -5)
  assert.equal(seen[0][1].value, 5)
  assert.ok(seen[0][1].durationMs >= 0)
  assert.deepEqual(published.map((r) => [r.matched, r.ignored]), [[false, true], [false, false], [true, false]])
  const got = await read()
  assert.equal(got.ignored, 1)
  assert.equal(got.mismatches, 1)

  const single = experiment({
    name: 'ignored',
    registry,
    control: () => 1,
    candidate: () => 2,
    ignore: () => { throw new Error('ignore broke') },
  })
  assert.equal(single(), 1)
  const after = await read()
  assert.equal(after.errors('ignore'), 1)
  assert.equal(after.mismatches, 2, 'an ignore that throws does not ignore')
})

test('clean: publish sees cleaned values, compare sees raw ones; a clean that throws publishes raw', async () => {
  const { registry, read } = setup('clean')
  const published = []
  let compared
  const user = { id: 1, password: 'hunter2' }
  let cleanThrows = false
  const run = experiment({
    name: 'clean',
    registry,
    control: () => user,
    candidate: () => ({ id: 1, password: 'hunter2' }),
    compare: (a, b) => { compared = [a, b]; return a.id === b.id },
    clean: (value) => {
      if (cleanThrows) throw new Error('clean broke')
      return { id: value.id }
    },
    publish: (r) => published.push(r),
  })
  assert.equal(run(), user)
  assert.equal(compared[0], user)
  assert.equal(compared[1].password, 'hunter2')
  assert.deepEqual(published[0].control.value, { id: 1 })
  assert.deepEqual(published[0].candidate.value, { id: 1 })
  cleanThrows = true
  assert.equal(run(), user)
  assert.equal(published[1].control.value, user)
  assert.equal((await read()).errors('clean'), 2, 'once per arm')
})

test('publish, compare and their async mistakes are recorded and never reach the caller', async () => {
  const { registry, read } = setup('broken-hooks')
  const rejected = deferred()
  let mode = 'publish throws'
  const reported = []
  const run = experiment({
    name: 'broken-hooks',
    registry,
    onError: (operation, error) => reported.push([operation, error.message]),
    control: () => 'value',
    candidate: () => 'value',
    compare: (a, b) => {
      if (mode === 'compare throws') throw new Error('compare broke')
      if (mode === 'compare async') return Promise.resolve(true)
      return a === b
    },
    publish: () => {
      if (mode === 'publish throws') throw new Error('publish broke')
      if (mode === 'publish rejects') {
        return Promise.reject(new Error('async publish broke')).finally(() => setImmediate(rejected.resolve))
      }
    },
  })
  assert.equal(run(), 'value')
  mode = 'publish rejects'
  assert.equal(run(), 'value')
  await rejected.promise
  mode = 'compare throws'
  assert.equal(run(), 'value')
  mode = 'compare async'
  assert.equal(run(), 'value')
  const got = await read()
  assert.equal(got.errors('publish'), 2)
  assert.equal(got.errors('compare'), 2)
  assert.equal(got.mismatches, 2, 'a compare that fails counts as a mismatch')
  assert.equal(got.runs, 4)
  assert.deepEqual(reported, [
    ['publish', 'publish broke'],
    ['publish', 'async publish broke'],
    ['compare', 'compare broke'],
    ['compare', "experiment 'broken-hooks': compare must return a boolean, not a Promise"],
  ], 'onError is given each error')
})

test('onError that throws is dropped; the caller still gets the control', async () => {
  const { registry, read } = setup('on-error-throws')
  const run = experiment({
    name: 'on-error-throws',
    registry,
    control: () => 'kept',
    candidate: () => 'kept',
    publish: () => { throw new Error('publish broke') },
    onError: () => { throw new Error('onError broke too') },
  })
  assert.equal(run(), 'kept')
  assert.equal((await read()).errors('publish'), 1)
})

test('raiseOnMismatches throws ERR_METRICORE_SHADOW_MISMATCH after publishing', async () => {
  const { registry, read } = setup('raise')
  const published = []
  const controlError = new Error('control failed')
  let candidate = (x) => x
  const run = experiment({
    name: 'raise',
    registry,
    control: (x) => { if (x === 'throw') throw controlError; return x },
    candidate: (x) => candidate(x),
    ignore: (c, k) => k.value === 'ignorable',
    publish: (r) => published.push(r),
    raiseOnMismatches: true,
  })
  assert.equal(run(1), 1)
  candidate = (x) => (x === 1 ? 'ignorable' : 2)
  assert.equal(run(1), 1, 'an ignored mismatch does not raise')
  assert.throws(() => run(5), (e) => {
    assert.equal(e.code, 'ERR_METRICORE_SHADOW_MISMATCH')
    assert.match(e.message, /^experiment 'raise': .*control returned 5, candidate returned 2/)
    assert.equal(e.result, published.at(-1), 'raised after publishing the same result')
    return true
  })
  assert.throws(() => run('throw'), { code: 'ERR_METRICORE_SHADOW_MISMATCH' }, 'the mismatch wins over the control error')
  assert.equal(published.at(-1).control.error, controlError)
  assert.equal((await read()).mismatches, 2)

  const asyncRun = experiment({
    name: 'raise',
    registry,
    control: async () => 'a',
    candidate: async () => 'b',
    raiseOnMismatches: true,
  })
  await assert.rejects(asyncRun(), { code: 'ERR_METRICORE_SHADOW_MISMATCH' })

  const cleaned = experiment({
    name: 'raise',
    registry,
    control: () => ({ id: 1, token: 'secret-a' }),
    candidate: () => ({ id: 2, token: 'secret-b' }),
    clean: (user) => `user ${user.id}`,
    raiseOnMismatches: true,
  })
  assert.throws(cleaned, (e) => {
    assert.match(e.message, /control returned 'user 1', candidate returned 'user 2'/)
    assert.doesNotMatch(e.message, /secret/, 'the message shows cleaned values only')
    return true
  })
})

test('raiseOnMismatches with a sync control and an async candidate rejects unhandled', async (t) => {
  const { registry } = setup('raise-late')
  // node:test fails a test on an unhandled rejection; take its listeners out for this one.
  const listeners = process.listeners('unhandledRejection')
  process.removeAllListeners('unhandledRejection')
  t.after(() => {
    process.removeAllListeners('unhandledRejection')
    for (const l of listeners) process.on('unhandledRejection', l)
  })
  const unhandled = deferred()
  process.on('unhandledRejection', unhandled.resolve)
  const run = experiment({
    name: 'raise-late',
    registry,
    control: () => 'a',
    candidate: async () => 'b',
    raiseOnMismatches: true,
  })
  assert.equal(run(), 'a')
  const reason = await unhandled.promise
  assert.equal(reason.code, 'ERR_METRICORE_SHADOW_MISMATCH')
})

test('the order of the arms is random per call: both orders seen with a seeded random', () => {
  const { registry } = setup('order')
  const seed = mulberry32(0xc0ffee)
  const draws = []
  const order = []
  const run = experiment({
    name: 'order',
    registry,
    control: () => order.push('control'),
    candidate: () => order.push('candidate'),
    compare: () => true,
    random: () => { const d = seed(); draws.push(d); return d },
  })
  const calls = 64
  for (let i = 0; i < calls; i++) run()
  assert.equal(draws.length, calls, 'one draw per call with sampleRate 1')
  const firsts = []
  for (let i = 0; i < calls; i++) firsts.push(order[2 * i])
  const expected = draws.map((d) => (d < 0.5 ? 'candidate' : 'control'))
  assert.deepEqual(firsts, expected, 'the candidate runs first exactly when the draw is below 0.5')
  assert.ok(firsts.includes('candidate') && firsts.includes('control'), 'both orders observed')
})

test('durations are measured for both arms and observed in the duration histogram', async () => {
  const { registry, read } = setup('durations')
  const busy = (ms) => {
    const end = process.hrtime.bigint() + BigInt(ms * 1e6)
    while (process.hrtime.bigint() < end) {
      // busy: a duration that does not depend on timers
    }
  }
  let result
  const run = experiment({
    name: 'durations',
    registry,
    control: () => busy(1),
    candidate: () => busy(5),
    publish: (r) => { result = r },
  })
  run()
  assert.ok(result.candidate.durationMs >= 5, `candidate took ${result.candidate.durationMs} ms`)
  assert.ok(result.control.durationMs >= 1, `control took ${result.control.durationMs} ms`)
  const { text } = await read()
  const count = (arm) => sample(text, 'metricore_shadow_duration_seconds_count', { experiment: 'durations', arm })
  const sum = (arm) => sample(text, 'metricore_shadow_duration_seconds_sum', { experiment: 'durations', arm })
  assert.equal(count('control'), 1)
  assert.equal(count('candidate'), 1)
  assert.ok(Math.abs(sum('candidate') - result.candidate.durationMs / 1000) < 1e-9)
  assert.ok(Math.abs(sum('control') - result.control.durationMs / 1000) < 1e-9)
})

test('metrics: the global register by default, recreated after clear(), conflicts refused', async () => {
  const name = `default-registry-${process.pid}`
  const run = experiment({ name, control: () => 1, candidate: () => 2 })
  run()
  assert.equal(sample(await m.register.metrics(), 'metricore_shadow_mismatches_total', { experiment: name }), 1)

  const { registry, read } = setup('cleared')
  const cleared = experiment({ name: 'cleared', registry, control: () => 1, candidate: () => 1 })
  cleared()
  registry.clear()
  cleared()
  assert.equal((await read()).runs, 1, 'counted in fresh metrics after clear()')

  const taken = new m.Registry()
  new m.Gauge({ name: 'metricore_shadow_runs_total', help: 'not ours', registers: [taken] })
  assert.throws(() => experiment({ name: 'x', registry: taken, control() {}, candidate() {} }),
    { name: 'RangeError', code: 'ERR_METRICORE_INVALID_CONFIG', message: /^experiment 'x': .*metricore_shadow_runs/ })
})

test('bad options: TypeError ERR_METRICORE_INVALID_TYPE naming the experiment, RangeError for sampleRate', () => {
  const registry = new m.Registry()
  const base = { name: 'checked', registry, control: () => 1, candidate: () => 1 }
  const badType = (patch, what) => assert.throws(() => experiment({ ...base, ...patch }),
    { name: 'TypeError', code: 'ERR_METRICORE_INVALID_TYPE', message: new RegExp(`^experiment 'checked': ${what}`) },
    what)
  badType({ control: 'nope' }, 'control')
  badType({ candidate: undefined }, 'candidate')
  for (const key of ['compare', 'compareErrors', 'enabled', 'clean', 'publish', 'beforeRun', 'onError', 'random']) {
    badType({ [key]: true }, key)
  }
  badType({ ignore: [() => true, 'x'] }, 'ignore')
  badType({ ignore: {} }, 'ignore')
  badType({ sampleRate: '0.5' }, 'sampleRate')
  badType({ registry: {} }, 'registry')
  badType({ raiseOnMismatches: 1 }, 'raiseOnMismatches')
  assert.throws(() => experiment({ ...base, name: 42 }), { name: 'TypeError', code: 'ERR_METRICORE_INVALID_TYPE' })
  assert.throws(() => experiment(), { name: 'TypeError', code: 'ERR_METRICORE_INVALID_TYPE' })
  assert.throws(() => experiment({ ...base, name: '' }), { name: 'RangeError', code: 'ERR_METRICORE_INVALID_CONFIG' })
  for (const sampleRate of [-0.1, 1.5, NaN]) {
    assert.throws(() => experiment({ ...base, sampleRate }),
      { name: 'RangeError', code: 'ERR_METRICORE_INVALID_CONFIG', message: /^experiment 'checked': sampleRate/ })
  }
  for (const sampleRate of [0, 1, 0.5]) assert.equal(typeof experiment({ ...base, sampleRate }), 'function')
})
