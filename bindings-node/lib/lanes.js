'use strict'
// The JavaScript fast path (see src/lanes.rs): kept series write into Float64Array pages
// over native lane memory, and the core handles receive what the pages hold at each flush.
// A store into a typed array costs V8 a nanosecond or two; a native call costs a hundred.
//
// Flushes happen before every read the skin serves (render, get, snapshots), when the
// histogram batch fills, and from a one-second timer (unref'd, so it never keeps the
// process alive), which bounds what readers on other threads can miss. Because the pages
// are native memory, the lane sets also flush by themselves when this thread's environment
// goes away (a worker thread ending in any way), when no JavaScript runs any more.
//
// A lane belongs to the object it was bound for (a child); when that object is
// garbage-collected its slot is released (the lane set flushes it first) for reuse, so
// series that come and go (label churn, the overflow series past the cardinality limit) do
// not accumulate lanes.

const native = require('../index.js')

/** Histogram batch ops (src/lanes.rs). */
const OBSERVE = 0
const RECORD = 1
const RECORD_MS = 2

let timer = null
function startTimer() {
  if (timer !== null) return
  timer = setInterval(flushAll, 1000)
  timer.unref()
}

/**
 * The pages of one native lane set. Each page holds `pageLanes` lanes of `width` doubles,
 * then one double set to 1 by every write: a flush skips the pages nobody wrote since the
 * last, so a render of 10k mostly idle series does not walk 10k cells.
 */
class LanePool {
  constructor(NativeLanes) {
    const lanes = new NativeLanes()
    this.native = lanes
    this.width = lanes.width
    this.pageLanes = lanes.pageLanes
    /** Where each page's written-since-flush flag is. */
    this.dirtyAt = this.pageLanes * this.width
    this.pages = []
    // The held value is the slot: no closure per lane.
    this.released = new FinalizationRegistry((slot) => lanes.release(slot))
  }

  /**
   * A lane for a native series, owned by `owner`: the page it lives on, its first cell and
   * its page number. The lane is flushed and released once `owner` is collected.
   */
  bind(series, owner) {
    const slot = this.native.bind(series)
    const pageNo = Math.floor(slot / this.pageLanes)
    while (this.pages.length <= pageNo) this.pages.push(this.native.page(this.pages.length))
    this.released.register(owner, slot, owner)
    startTimer()
    return { cells: this.pages[pageNo], index: (slot % this.pageLanes) * this.width, pageNo }
  }

  /**
   * Releases the lane bound for `owner` (at `pageNo`, cell `index`) now, rather than when
   * `owner` is collected: its slot is reused, so `owner` must never write to it again.
   */
  unbind(owner, pageNo, index) {
    if (this.released.unregister(owner)) this.native.release(pageNo * this.pageLanes + index / this.width)
  }

  flushPage(pageNo) {
    if (this.pages[pageNo][this.dirtyAt] !== 0) this.native.flushPage(pageNo)
  }

  flush() {
    this.native.flush()
  }
}

const counters = new LanePool(native.CounterLanes)
const gauges = new LanePool(native.GaugeLanes)

/**
 * The histogram batch shared by every histogram series of this thread: pairs of
 * (slot * 4 + op, value), then the number of doubles in use.
 */
const batch = new native.HistogramBatch()
const entries = batch.entries()
const BATCH_LEN = entries.length - 1
const releasedHistograms = new FinalizationRegistry((slot) => batch.release(slot))

/** The batch code of a native histogram series owned by `owner` (its slot times four). */
function bindHistogram(series, owner) {
  const slot = batch.bind(series)
  releasedHistograms.register(owner, slot, owner)
  startTimer()
  return slot * 4
}

/** Releases the slot of `owner` (its batch code) now; `owner` must never push to it again. */
function unbindHistogram(owner, code) {
  if (releasedHistograms.unregister(owner)) batch.release(code / 4)
}

function flushHistograms() {
  if (entries[BATCH_LEN] !== 0) batch.flush()
}

/** Appends one entry to the batch, flushing when it is full. */
function pushHistogram(code, value) {
  const e = entries
  const n = e[BATCH_LEN]
  e[n] = code
  e[n + 1] = value
  e[BATCH_LEN] = n + 2
  if (n + 2 === BATCH_LEN) batch.flush()
}

/** Moves everything this thread has written into the core. */
function flushAll() {
  counters.flush()
  gauges.flush()
  flushHistograms()
}

/** Lanes bound and not yet released, by kind (for tests and diagnostics). */
function live() {
  return { counters: counters.native.live, gauges: gauges.native.live, histograms: batch.live }
}

module.exports = {
  /** Where a counter or gauge page's written-since-flush flag is (see LanePool). */
  COUNTER_DIRTY_AT: counters.dirtyAt,
  GAUGE_DIRTY_AT: gauges.dirtyAt,
  live,
  counters,
  gauges,
  bindHistogram,
  unbindHistogram,
  pushHistogram,
  flushHistograms,
  flushAll,
  OBSERVE,
  RECORD,
  RECORD_MS,
}
