//! The shared runtime, and a blocking facade for callers without one (the bindings use it).

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use parking_lot::Mutex;
use tokio::runtime::{Handle, Runtime};
use tokio::task::AbortHandle;

use crate::error::{Error, Result};

/// The shared runtime and the process it belongs to.
struct Slot {
    pid: u32,
    runtime: &'static Runtime,
}

static RUNTIME: ArcSwapOption<Slot> = ArcSwapOption::const_empty();
/// Serialises the (rare) creation of a runtime.
static CREATING: Mutex<()> = parking_lot::const_mutex(());

/// The runtime the crate runs on when the caller has none: two worker threads named
/// `twilio-oauth`, created on first use.
///
/// Fork-safe: a child process created by `fork()` (gunicorn `--preload`, `multiprocessing`,
/// Celery prefork) inherits the parent's runtime without its threads, so the first call in the
/// child starts a runtime of its own. The parent's copy is left alone (dropping it would wait
/// for threads that do not exist in the child).
pub fn runtime() -> Result<&'static Runtime> {
    let pid = std::process::id();
    if let Some(slot) = RUNTIME.load().as_ref().filter(|s| s.pid == pid) {
        return Ok(slot.runtime);
    }
    let _creating = CREATING.lock();
    if let Some(slot) = RUNTIME.load().as_ref().filter(|s| s.pid == pid) {
        return Ok(slot.runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("twilio-oauth")
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the tokio runtime: {e}")))?;
    // Lives as long as the process: it is shared by every provider and binding.
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    RUNTIME.store(Some(Arc::new(Slot { pid, runtime })));
    Ok(runtime)
}

/// Call in a child process right after `fork()` (Python's `os.register_at_fork`): forgets the
/// parent's runtime so the child starts its own on first use. [`runtime`] notices a fork by
/// itself; this only makes it explicit and early.
pub fn after_fork_in_child() {
    let pid = std::process::id();
    if RUNTIME.load().as_ref().is_some_and(|s| s.pid != pid) {
        RUNTIME.store(None);
    }
}

/// A handle to run background work on: the caller's runtime if there is one, else ours.
pub(crate) fn handle() -> Result<Handle> {
    match Handle::try_current() {
        Ok(h) => Ok(h),
        Err(_) => runtime().map(|r| r.handle().clone()),
    }
}

pub(crate) fn spawn_detached(fut: impl Future<Output = ()> + Send + 'static) {
    match handle() {
        Ok(h) => {
            h.spawn(fut);
        }
        Err(e) => tracing::error!(error = %e, "cannot start a background refresh"),
    }
}

/// A future running on the shared runtime, which a thread can wait for (with a timeout, so a
/// binding can check for Ctrl-C between waits) or cancel.
#[derive(Debug)]
pub struct Task<T> {
    rx: mpsc::Receiver<Result<T>>,
    abort: Option<AbortHandle>,
    early: Option<Result<T>>,
}

impl<T: Send + 'static> Task<T> {
    /// Waits for the result.
    pub fn wait(mut self) -> Result<T> {
        if let Some(r) = self.early.take() {
            return r;
        }
        self.rx
            .recv()
            .unwrap_or_else(|_| Err(Error::internal("the task ended without a result")))
    }

    /// Waits up to `timeout`; `None` when the task is still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<Result<T>> {
        if let Some(r) = self.early.take() {
            return Some(r);
        }
        match self.rx.recv_timeout(timeout) {
            Ok(r) => Some(r),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Some(Err(Error::internal("the task ended without a result")))
            }
        }
    }

    /// Cancels the task: its future is dropped at its next await point, and `wait` returns
    /// [`Error::Cancelled`].
    pub fn cancel(&self) {
        if let Some(a) = &self.abort {
            a.abort();
        }
    }
}

/// Runs `fut` on the shared runtime. A panic inside becomes [`Error::Internal`]; cancelling
/// the task gives [`Error::Cancelled`].
pub fn spawn<T, F>(fut: F) -> Task<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            return Task {
                rx,
                abort: None,
                early: Some(Err(e)),
            };
        }
    };
    let handle = rt.spawn(fut);
    let abort = handle.abort_handle();
    rt.spawn(async move {
        let _ = tx.send(join_result(handle.await));
    });
    Task {
        rx,
        abort: Some(abort),
        early: None,
    }
}

/// Runs `fut` on the shared runtime and awaits it from any executor (used by async bindings
/// whose event loop is not tokio). Panics become [`Error::Internal`].
pub async fn run<T, F>(fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let rt = runtime()?;
    join_result(rt.spawn(fut).await)
}

/// Blocks the current thread until `fut` completes on the shared runtime. Works inside and
/// outside a runtime (it never nests `block_on`).
pub fn block_on<T, F>(fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    spawn(fut).wait()
}

pub(crate) fn join_result<T>(
    r: std::result::Result<Result<T>, tokio::task::JoinError>,
) -> Result<T> {
    match r {
        Ok(r) => r,
        Err(e) if e.is_cancelled() => Err(Error::Cancelled),
        Err(e) => {
            let payload = e.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::internal(format!(
                "panic inside twilio-oauth: {message}"
            )))
        }
    }
}

/// Test hook: a call that panics inside the core, so each binding can prove a panic becomes
/// a typed error instead of an abort.
#[cfg(feature = "test-hooks")]
#[allow(clippy::panic)]
pub async fn panic_for_test() -> Result<()> {
    panic!("test hook: deliberate panic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        #[allow(clippy::panic)]
        let err = block_on(async { panic!("boom") as Result<()> }).unwrap_err();
        assert_eq!(err.kind(), "TwilioOAuthError");
        assert!(err.to_string().contains("boom"));
    }

    #[test]
    fn a_cancelled_task_reports_cancelled() {
        let mut task = spawn(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        });
        assert!(task.wait_timeout(Duration::from_millis(10)).is_none());
        task.cancel();
        assert_eq!(task.wait().unwrap_err().kind(), "CancelledError");
    }
}
