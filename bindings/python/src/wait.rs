//! Running the core's futures for Python: blocking (GIL released, Ctrl-C aware) and as
//! awaitables (asyncio, cancellable).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use pyo3::prelude::*;
use pyo3::{BoundObject, intern};
use twilio_oauth::{Error, blocking};

use crate::errors::to_pyerr;

/// How often a blocked call looks for a pending signal (Ctrl-C).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Runs `fut` on the core's runtime and waits for it with the GIL released. Between waits it
/// checks for signals: a `KeyboardInterrupt` (or any exception a signal handler raises)
/// cancels the task and propagates at once.
pub(crate) fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = twilio_oauth::Result<T>> + Send + 'static,
{
    let mut task = blocking::spawn(fut);
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

/// The result of a core future, converted to Python when asyncio receives it (with the GIL,
/// on the thread that completes the Python future): a value, or the matching exception.
pub(crate) struct Outcome<T>(twilio_oauth::Result<T>);

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

/// An asyncio awaitable for `fut`. Cancelling the asyncio future drops `fut` (cancelling the
/// request or the device poll); a panic inside becomes a `TwilioOAuthError`.
pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: Future<Output = twilio_oauth::Result<T>> + Send + 'static,
{
    let fut = async move {
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(Error::Internal {
                message: format!("panic inside twilio-oauth: {}", panic_message(&*payload)),
            }),
        }
    };
    #[cfg(unix)]
    {
        let event_loop = pyo3_async_runtimes::get_running_loop(py)?;
        if let Some(inbox) = crate::asyncio::inbox_for(py, &event_loop) {
            return crate::asyncio::spawn(py, &event_loop, inbox, async move {
                let result = fut.await;
                let deliver: crate::asyncio::Deliver =
                    Box::new(move |py| Outcome(result).into_pyobject(py));
                deliver
            });
        }
    }
    pyo3_async_runtimes::tokio::future_into_py(py, async move { Ok(Outcome(fut.await)) })
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

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
