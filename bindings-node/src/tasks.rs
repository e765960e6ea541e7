//! Core work on the libuv thread pool, for Promise-returning methods.

use metricore::Error as CoreError;
use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{Env, Status, Task};

use crate::errors::rejection;

/// Runs `work` on the pool and resolves with `wrap` of its result; a core error rejects
/// with the same `TypeError`/`RangeError` (and `code`) the synchronous method throws.
pub struct CoreTask<T, R> {
    work: Box<dyn FnMut() -> metricore::Result<T> + Send>,
    wrap: fn(T) -> R,
    /// The core's error, kept for `reject`, which runs on the JS thread where the error
    /// object can be made.
    failed: Option<CoreError>,
}

impl<T, R> CoreTask<T, R> {
    pub fn new(
        work: impl FnMut() -> metricore::Result<T> + Send + 'static,
        wrap: fn(T) -> R,
    ) -> Self {
        Self {
            work: Box::new(work),
            wrap,
            failed: None,
        }
    }
}

impl<T: Send + 'static, R: ToNapiValue + TypeName + 'static> Task for CoreTask<T, R> {
    type Output = T;
    type JsValue = R;

    fn compute(&mut self) -> napi::Result<T> {
        (self.work)().map_err(|e| {
            let reason = e.to_string();
            self.failed = Some(e);
            napi::Error::new(Status::GenericFailure, reason)
        })
    }

    fn resolve(&mut self, _env: Env, output: T) -> napi::Result<R> {
        Ok((self.wrap)(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<R> {
        Err(self.failed.take().map_or(err, |e| rejection(env, &e)))
    }
}
