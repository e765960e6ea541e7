'use strict'
// What several test files (and the bench) share. It lives outside test/ because
// `node --test` runs every .js file under test/ as a test file.
const { spawnSync } = require('node:child_process')

/** A seeded PRNG (mulberry32): uniform numbers in [0, 1), the same sequence for a seed. */
function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The sample lines of an exposition as a sorted list of [name{labels}, value], HELP/TYPE
 * lines dropped, so that prom-client's and metricore's can be compared: labels sorted by
 * name (prom-client puts `le` first, metricore last) and numeric `le`/`quantile` values
 * spelled one way (`1.0` and `1`).
 */
function samples(text) {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const i = l.lastIndexOf(' ')
      const head = l.slice(0, i)
      const brace = head.indexOf('{')
      const name = brace < 0 ? head : head.slice(0, brace)
      const labels = [...head.slice(name.length).matchAll(/(\w+)="([^"]*)"/g)]
        .map(([, k, v]) => `${k}="${(k === 'le' || k === 'quantile') && v !== '+Inf' ? Number(v) : v}"`)
        .sort()
      return [`${name}{${labels.join(',')}}`, Number(l.slice(i + 1))]
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** Whether promtool runs here (scripts/lib.sh ensure_promtool installs it). */
function hasPromtool() {
  return spawnSync('promtool', ['--version']).status === 0
}

/** The skip reason for a promtool test when it is missing, else false. */
const PROMTOOL_SKIP = hasPromtool() ? false : 'promtool is not installed (scripts/lib.sh ensure_promtool installs it)'

module.exports = { mulberry32, samples, hasPromtool, PROMTOOL_SKIP }
