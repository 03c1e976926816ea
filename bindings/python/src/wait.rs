//! Running the core's futures for Python: blocking (GIL released, Ctrl-C aware), as awaitables
//! (asyncio, cancellable), and synchronous calls.
//!
//! The guards are the core's (`twilio_oauth::runtime`): a blocking wait is a `runtime::Task`,
//! an awaitable runs `runtime::guard` (a panic becomes a `TwilioOAuthError`; cancelling the
//! asyncio future fires its cancellation token), and a synchronous call runs in
//! `runtime::guard_sync`. What stays here is Python's side: waiting with the GIL released,
//! Ctrl-C, and handing results to asyncio (see `asyncio.rs`).
//!
//! Everything runs on the core's runtime (`twilio_oauth::runtime::runtime()`), which a child
//! process created by `fork()` replaces with its own; the pyo3-async-runtimes fallback runs on
//! it too ([`CoreRuntime`]), never on a runtime remembered from the parent.

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use pyo3::prelude::*;
use pyo3::{BoundObject, intern};
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime};
use twilio_oauth::{CancellationToken, Error, runtime};

use crate::errors::to_pyerr;

/// How often a blocked call looks for a pending signal (Ctrl-C).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Runs `fut` on the core's runtime and waits for it with the GIL released. Between waits it
/// checks for signals: a `KeyboardInterrupt` (or any exception a signal handler raises)
/// cancels the task and propagates at once. A panic inside becomes a `TwilioOAuthError`.
pub(crate) fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = twilio_oauth::Result<T>> + Send + 'static,
{
    let mut task = runtime::spawn(fut);
    loop {
        if let Some(result) = py.detach(|| task.wait_timeout(SIGNAL_CHECK_INTERVAL)) {
            return result.map_err(|e| to_pyerr(py, &e));
        }
        if let Err(interrupt) = py.check_signals() {
            task.cancel();
            return Err(interrupt);
        }
    }
}

/// A synchronous call into the core on the caller's thread (no waiting): a panic inside
/// becomes a `TwilioOAuthError` instead of a `PanicException`.
pub(crate) fn call<T>(py: Python<'_>, f: impl FnOnce() -> twilio_oauth::Result<T>) -> PyResult<T> {
    runtime::guard_sync(f).map_err(|e| to_pyerr(py, &e))
}

/// The result of a core future, converted to Python when asyncio receives it (with the GIL,
/// on the thread that completes the Python future): a value, or the matching exception.
pub(crate) struct Outcome<T>(pub(crate) twilio_oauth::Result<T>);

impl<'py, T> IntoPyObject<'py> for Outcome<T>
where
    T: IntoPyObject<'py>,
{
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.0 {
            Ok(value) => value
                .into_pyobject(py)
                .map(|v| v.into_any().into_bound())
                .map_err(Into::into),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }
}

/// Fires a call's cancellation token when its asyncio future is done: cancelled (the core's
/// guard then drops the call's future), or settled (the call has ended; nothing happens).
#[pyclass(frozen, module = "twilio_oauth._native")]
struct CancelOnDone(CancellationToken);

#[pymethods]
impl CancelOnDone {
    fn __call__(&self, _future: &Bound<'_, PyAny>) {
        self.0.cancel();
    }
}

/// An asyncio awaitable for `fut`, run by the core's `runtime::guard`. Cancelling the asyncio
/// future cancels `fut` (a request or a device poll stops; a provider's fetch belongs to the
/// provider and goes on for the other callers); a panic inside becomes a `TwilioOAuthError`.
pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: Future<Output = twilio_oauth::Result<T>> + Send + 'static,
{
    // Fails here (a Python exception) rather than in a spawn that could not report it.
    let core = runtime::runtime().map_err(|e| to_pyerr(py, &e))?;
    let cancel = CancellationToken::new();
    // The guard is driven to its end by a task of its own (never dropped half-way, which would
    // leave `fut` running unobserved): cancelling is the token's job.
    let guarded = runtime::guard(Some(cancel.clone()), fut);
    let future = deliver_to_asyncio(py, core, guarded)?;
    future.call_method1(intern!(py, "add_done_callback"), (CancelOnDone(cancel),))?;
    Ok(future)
}

/// An asyncio future on the running loop, settled with what `guarded` gives: through the
/// loop's socket where it has one (see `asyncio.rs`), else through pyo3-async-runtimes.
fn deliver_to_asyncio<'py, T, G>(
    py: Python<'py>,
    core: &'static tokio::runtime::Runtime,
    guarded: G,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    G: Future<Output = twilio_oauth::Result<T>> + Send + 'static,
{
    #[cfg(unix)]
    {
        let event_loop = pyo3_async_runtimes::get_running_loop(py)?;
        if let Some(inbox) = crate::asyncio::inbox_for(py, &event_loop) {
            return crate::asyncio::spawn(py, core, &event_loop, inbox, async move {
                let result = guarded.await;
                let deliver: crate::asyncio::Deliver =
                    Box::new(move |py| Outcome(result).into_pyobject(py));
                deliver
            });
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let future =
        pyo3_async_runtimes::generic::future_into_py::<CoreRuntime, _, _>(py, async move {
            Ok(Outcome(rx.await.unwrap_or_else(|_| {
                Err(Error::Internal {
                    message: "the call ended without a result".into(),
                })
            })))
        })?;
    core.spawn(async move {
        let _ = tx.send(guarded.await);
    });
    Ok(future)
}

/// pyo3-async-runtimes on the core's runtime, looked up on every spawn: unlike
/// `pyo3_async_runtimes::tokio` (one runtime for the life of the process), it follows the core
/// into a new runtime after `fork()`.
struct CoreRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

/// A task spawned on the core's runtime, or the reason there is no runtime to spawn on.
enum CoreJoin {
    Spawned(tokio::task::JoinHandle<()>),
    NoRuntime(Option<String>),
}

/// Why a [`CoreJoin`] ended without completing: reported by pyo3-async-runtimes as a panic.
enum CoreJoinError {
    Task(tokio::task::JoinError),
    NoRuntime(String),
}

impl JoinError for CoreJoinError {
    fn is_panic(&self) -> bool {
        match self {
            CoreJoinError::Task(e) => e.is_panic(),
            CoreJoinError::NoRuntime(_) => true,
        }
    }

    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        match self {
            CoreJoinError::Task(e) => match e.try_into_panic() {
                Ok(payload) => payload,
                Err(e) => Box::new(e.to_string()),
            },
            CoreJoinError::NoRuntime(message) => Box::new(message),
        }
    }
}

impl Future for CoreJoin {
    type Output = Result<(), CoreJoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            CoreJoin::Spawned(handle) => handle.poll_unpin(cx).map_err(CoreJoinError::Task),
            CoreJoin::NoRuntime(message) => Poll::Ready(Err(CoreJoinError::NoRuntime(
                message.take().unwrap_or_default(),
            ))),
        }
    }
}

impl CoreJoin {
    fn on_runtime(
        spawn: impl FnOnce(&tokio::runtime::Runtime) -> tokio::task::JoinHandle<()>,
    ) -> Self {
        match runtime::runtime() {
            Ok(runtime) => CoreJoin::Spawned(spawn(runtime)),
            Err(e) => CoreJoin::NoRuntime(Some(e.to_string())),
        }
    }
}

impl Runtime for CoreRuntime {
    type JoinError = CoreJoinError;
    type JoinHandle = CoreJoin;

    fn spawn<F>(fut: F) -> CoreJoin
    where
        F: Future<Output = ()> + Send + 'static,
    {
        CoreJoin::on_runtime(|runtime| runtime.spawn(fut))
    }

    fn spawn_blocking<F>(f: F) -> CoreJoin
    where
        F: FnOnce() + Send + 'static,
    {
        CoreJoin::on_runtime(|runtime| runtime.spawn_blocking(f))
    }
}

impl ContextExt for CoreRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// An asyncio future that is already done: the answer of a cache hit, without a trip through
/// the runtime.
pub(crate) fn ready<'py, T>(py: Python<'py>, value: T) -> PyResult<Bound<'py, PyAny>>
where
    T: IntoPyObject<'py>,
{
    let event_loop = pyo3_async_runtimes::get_running_loop(py)?;
    let future = event_loop.call_method0(intern!(py, "create_future"))?;
    future.call_method1(intern!(py, "set_result"), (value,))?;
    Ok(future)
}
