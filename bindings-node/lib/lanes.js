'use strict'
// The JavaScript fast path (see src/lanes.rs): kept series write into Float64Array pages
// that this thread owns, and the core handles receive what the pages hold at each flush.
// A store into a typed array costs V8 a nanosecond or two; a native call costs a hundred.
//
// Flushes happen before every read the skin serves (render, get, snapshots), when the
// histogram batch fills, and from a one-second timer (unref'd, so it never keeps the
// process alive), which bounds what readers on other threads can miss.
//
// A lane belongs to the object it was bound for (a child); when that object is
// garbage-collected its lane is flushed and its slot released for reuse, so series that
// come and go (label churn, the overflow series past the cardinality limit) do not
// accumulate lanes.

const native = require('../index.js')

/** Slots per counter/gauge page. */
const PAGE = 256
/** Doubles in the histogram batch: pairs of (slot * 4 + op, value). */
const BATCH_LEN = 2048
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

/** Releases the lanes of collected owners: `release()` of their pool. */
const released = new FinalizationRegistry((release) => release())

/**
 * Pages of lanes, `width` doubles per slot, over one native lane set. Each page has one
 * more double after its lanes, set to 1 by every write: a flush skips the pages nobody
 * wrote since the last, so a render of 10k mostly idle series does not walk 10k cells.
 */
class LanePool {
  constructor(NativeLanes, width) {
    this.native = new NativeLanes()
    this.width = width
    /** Where each page's written-since-flush flag is. */
    this.dirtyAt = PAGE * width
    /** Per page: the whole array (lanes and flag) and a view of the lanes alone. */
    this.pages = []
    this.lanes = []
  }

  /**
   * A lane for a native series, owned by `owner`: the page it lives on, its first cell and
   * its page number. The lane is flushed and released once `owner` is collected.
   */
  bind(series, owner) {
    const slot = this.native.bind(series)
    const pageNo = Math.floor(slot / PAGE)
    if (pageNo === this.pages.length) {
      const page = new Float64Array(this.dirtyAt + 1)
      this.pages.push(page)
      this.lanes.push(page.subarray(0, this.dirtyAt))
    }
    released.register(owner, () => {
      this.flushPage(pageNo)
      this.native.release(slot)
    })
    startTimer()
    return { cells: this.pages[pageNo], index: (slot % PAGE) * this.width, pageNo }
  }

  flushPage(pageNo) {
    const page = this.pages[pageNo]
    if (page[this.dirtyAt] === 0) return
    page[this.dirtyAt] = 0
    this.native.flush(pageNo * PAGE, this.lanes[pageNo])
  }

  flush() {
    for (let p = 0; p < this.pages.length; p++) this.flushPage(p)
  }
}

const counters = new LanePool(native.CounterLanes, 1)
const gauges = new LanePool(native.GaugeLanes, 2)

/** The histogram batch shared by every histogram series of this thread. */
const batch = {
  native: new native.HistogramBatch(),
  entries: new Float64Array(BATCH_LEN),
  n: 0,
}

/** The batch code of a native histogram series owned by `owner` (its slot times four). */
function bindHistogram(series, owner) {
  const slot = batch.native.bind(series)
  released.register(owner, () => {
    flushHistograms()
    batch.native.release(slot)
  })
  startTimer()
  return slot * 4
}

function flushHistograms() {
  const n = batch.n
  if (n === 0) return
  batch.n = 0
  batch.native.flush(batch.entries, n)
}

/** Appends one entry to the batch, flushing when it is full. */
function pushHistogram(code, value) {
  const b = batch
  const n = b.n
  b.entries[n] = code
  b.entries[n + 1] = value
  b.n = n + 2
  if (n + 2 === BATCH_LEN) flushHistograms()
}

/** Moves everything this thread has written into the core. */
function flushAll() {
  counters.flush()
  gauges.flush()
  flushHistograms()
}

/** Lanes bound and not yet released, by kind (for tests and diagnostics). */
function live() {
  return { counters: counters.native.live, gauges: gauges.native.live, histograms: batch.native.live }
}

module.exports = {
  /** Where a counter or gauge page's written-since-flush flag is (see LanePool). */
  COUNTER_DIRTY_AT: counters.dirtyAt,
  GAUGE_DIRTY_AT: gauges.dirtyAt,
  live,
  counters,
  gauges,
  bindHistogram,
  pushHistogram,
  flushHistograms,
  flushAll,
  OBSERVE,
  RECORD,
  RECORD_MS,
}
