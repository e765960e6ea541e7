import { invalidType } from './errors'
import type { ProfileFailure, ProfiledResult, ProfilerOptions } from './types'

/** process.hrtime.bigint() in milliseconds. */
function hrtimeMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** The TypeScript-era AdvancedProfiler: wall time, memory and CPU deltas around one operation. */
export class AdvancedProfiler {
  private readonly now: () => number

  /** Options: `now`, the clock for durations (default process.hrtime.bigint() in ms). */
  constructor(options: ProfilerOptions = {}) {
    const { now = hrtimeMs } = options
    if (typeof now !== 'function') throw invalidType('AdvancedProfiler: now must be a function')
    this.now = now
  }

  /**
   * Runs `operation` (sync or async) and resolves to its result and profile: duration (ms),
   * process.memoryUsage() deltas (bytes) and process.cpuUsage() deltas (ms). If it throws or
   * rejects, rejects with a plain ProfileFailure object {error, profile: {duration, failed}}
   * (the legacy shape; not an Error).
   */
  async profileOperation<T>(operation: () => T | PromiseLike<T>): Promise<ProfiledResult<Awaited<T>>> {
    if (typeof operation !== 'function') throw invalidType('profileOperation: the operation must be a function')
    const startTime = this.now()
    const startMemory = process.memoryUsage()
    const startCpu = process.cpuUsage()
    try {
      const result = await operation()
      const endTime = this.now()
      const endMemory = process.memoryUsage()
      const endCpu = process.cpuUsage()
      return {
        result,
        profile: {
          duration: endTime - startTime,
          memory: {
            heapUsed: endMemory.heapUsed - startMemory.heapUsed,
            external: endMemory.external - startMemory.external,
            arrayBuffers: endMemory.arrayBuffers - startMemory.arrayBuffers,
          },
          cpu: { user: (endCpu.user - startCpu.user) / 1000, system: (endCpu.system - startCpu.system) / 1000 },
        },
      }
    } catch (error) {
      const failure: ProfileFailure = { error, profile: { duration: this.now() - startTime, failed: true } }
      throw failure
    }
  }
}
