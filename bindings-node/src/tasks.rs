//! Core work off the event loop, for Promise-returning methods.
//!
//! The work runs on metricore's own worker thread, one per process, at a lower scheduling
//! priority than the event loop (nice 10 on Linux), not on the libuv pool. A pool thread
//! woken on the loop thread's CPU takes that CPU: on a 2-core machine, 14-19 of every 1000
//! async 10k-series renders left the loop waiting 0.3-1.2 ms for it right as the render
//! was queued; from a thread below the loop's priority, none of 3000 did. The work items
//! are short (a 10k render takes 1-2 ms), so one thread serves them in turn, and the libuv
//! pool stays free for file and DNS work.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, Status};

use crate::errors::rejection;

type Job = Box<dyn FnOnce() + Send>;

/// The worker's nice value: above the event loop's 0, so that waking the worker never
/// preempts the loop, yet not so low that a busy machine starves renders.
#[cfg(target_os = "linux")]
const WORKER_NICE: libc::c_int = 10;

/// The worker's queue, or why the worker could not start.
static WORKER: OnceLock<Result<Sender<Job>, String>> = OnceLock::new();

/// Runs `work` on metricore's worker thread. The promise resolves with `wrap` of its
/// result (made on the JS thread); a core error rejects it with the same
/// `TypeError`/`RangeError` (and `code`) the synchronous method throws.
///
/// # Errors
/// When the worker thread cannot be started, or the promise cannot be made.
pub fn spawn<T, R>(
    env: &Env,
    work: impl FnOnce() -> metricore::Result<T> + Send + 'static,
    wrap: fn(T) -> R,
) -> napi::Result<Object<'_>>
where
    T: Send + 'static,
    R: ToNapiValue + 'static,
{
    let queue = WORKER
        .get_or_init(start_worker)
        .as_ref()
        .map_err(|reason| napi::Error::new(Status::GenericFailure, reason.clone()))?;
    let (deferred, promise) = env.create_deferred()?;
    let job: Job = Box::new(move || {
        // A panic in the core rejects this promise instead of ending the worker.
        let outcome = catch_unwind(AssertUnwindSafe(work));
        deferred.resolve(move |env| match outcome {
            Ok(Ok(value)) => Ok(wrap(value)),
            Ok(Err(e)) => Err(rejection(env, &e)),
            Err(payload) => Err(napi::Error::new(
                Status::GenericFailure,
                format!("metricore panicked: {}", panic_message(&*payload)),
            )),
        });
    });
    // The worker ends only if every sender is dropped, and the static one never is.
    queue.send(job).map_err(|_| {
        napi::Error::new(
            Status::GenericFailure,
            "metricore's worker thread has stopped",
        )
    })?;
    Ok(promise)
}

fn start_worker() -> Result<Sender<Job>, String> {
    let (queue, jobs) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("metricore-worker".to_owned())
        .spawn(move || {
            lower_priority();
            for job in jobs {
                job();
            }
        })
        .map(|_| queue)
        .map_err(|e| format!("metricore cannot start its worker thread: {e}"))
}

/// Lowers the calling thread's priority; where the system refuses, the worker runs at the
/// normal priority, which is what the libuv pool has.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    let Ok(tid) = libc::id_t::try_from(tid) else {
        return;
    };
    // SAFETY: setpriority takes no pointers; on Linux, PRIO_PROCESS with a thread id sets
    // the nice value of that one thread.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, WORKER_NICE) };
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// The text a panic was raised with, when it was text.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
