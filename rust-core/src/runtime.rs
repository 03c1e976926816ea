//! The shared runtime, and what every binding needs around a call into the core: a blocking
//! facade, [`guard`] (a panic becomes a typed error; cancellation), [`guard_sync`], and
//! [`seconds`] (one rule and one message for durations given in seconds).

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use parking_lot::Mutex;
use tokio::runtime::{Handle, Runtime};
use tokio::task::AbortHandle;

use tokio_util::sync::CancellationToken;

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
        Err(e) => Err(Error::internal(panic_message(e.into_panic().as_ref()))),
    }
}

/// Runs `fut` on the shared runtime for a binding: a panic inside becomes
/// [`Error::Internal`], and `cancel` firing ends the call with [`Error::Cancelled`] (the future
/// is dropped at its next await point). Awaitable from any executor.
pub async fn guard<T, F>(cancel: Option<CancellationToken>, fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let task = runtime()?.spawn(fut);
    // Dropping the guard's future (a cancelled coroutine, a rejected promise nobody awaits)
    // stops the work too.
    let _stop = AbortOnDrop(task.abort_handle());
    match cancel {
        None => join_result(task.await),
        Some(cancel) => tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::Cancelled),
            r = task => join_result(r),
        },
    }
}

/// Aborts a task when dropped (aborting a finished task does nothing).
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a synchronous binding call: a panic inside becomes [`Error::Internal`] instead of
/// unwinding into a foreign runtime.
pub fn guard_sync<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(Error::internal(panic_message(payload.as_ref()))))
}

/// The longest duration a binding may pass in seconds (a year): anything longer is a mistake.
pub const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// A duration given in seconds by a binding (`timeout`, `refresh_ahead`, …): finite, not
/// negative, at most a year. One rule and one message in every language.
pub fn seconds(name: &str, value: f64) -> Result<Duration> {
    if value.is_finite() && (0.0..=MAX_SECONDS).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::config(format!(
            "{name} must be a number of seconds from 0 to {MAX_SECONDS} (got {value})"
        )))
    }
}

/// [`seconds`] for an optional argument: `default` when it is not given.
pub fn seconds_or(name: &str, value: Option<f64>, default: Duration) -> Result<Duration> {
    value.map_or(Ok(default), |v| seconds(name, v))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("panic inside twilio-oauth: {text}")
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
    fn seconds_have_one_rule_and_one_message() {
        assert_eq!(
            seconds("timeout", 1.5).unwrap(),
            Duration::from_millis(1500)
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY, MAX_SECONDS * 2.0] {
            let e = seconds("timeout", bad).unwrap_err();
            assert_eq!(e.kind(), "ConfigError");
            assert!(
                e.to_string()
                    .contains("timeout must be a number of seconds"),
                "{e}"
            );
        }
    }

    #[test]
    fn guard_turns_a_panic_into_an_error_and_honours_cancel() {
        #[allow(clippy::panic)]
        let err = block_on(guard(None, async { panic!("inside") as Result<()> })).unwrap_err();
        assert!(err.to_string().contains("inside"), "{err}");
        let cancel = CancellationToken::new();
        cancel.cancel();
        let err = block_on(guard(Some(cancel), async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        }))
        .unwrap_err();
        assert_eq!(err.kind(), "CancelledError");
        #[allow(clippy::panic)]
        let err = guard_sync(|| -> Result<()> { panic!("sync") }).unwrap_err();
        assert!(err.to_string().contains("sync"), "{err}");
    }

    #[test]
    fn dropping_a_guarded_call_stops_its_work() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let call = guard(None, async move {
            let _tx = tx; // dropped when the task stops
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        });
        let handle = runtime().unwrap().spawn(call);
        std::thread::sleep(Duration::from_millis(20));
        handle.abort();
        // The guarded task ends (its sender is dropped) well before its 30 s sleep.
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
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
