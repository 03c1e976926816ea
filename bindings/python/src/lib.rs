//! The Python binding of twilio-oauth: the extension module `twilio_oauth._native`.
//!
//! It converts types and errors only; every behaviour lives in the `twilio-oauth` core.
//! - Sync calls run on the core's runtime and wait with the GIL released, checking for Ctrl-C
//!   between waits; `<name>_async` twins return asyncio awaitables (settled on the event
//!   loop's thread), and cancelling them drops the caller's Rust future (a provider's fetch
//!   belongs to the provider and goes on for the others).
//! - Fork-safe: the package registers `_after_fork_in_child` with `os.register_at_fork`, so a
//!   child process (gunicorn `--preload`, `multiprocessing`, Celery prefork) starts a runtime
//!   of its own and forgets the parent's threads' state.
//! - Cache hits (`token()`, `access_token()`, `authorization_header()`) are answered on the
//!   caller's thread by the core's lock-free `try_token()`.
//! - The core's `tracing` events reach Python's `logging` under the `twilio_oauth` logger.

#[cfg(unix)]
mod asyncio;
mod client;
mod convert;
mod errors;
mod lifecycle;
mod provider;
mod store;
mod types;
mod wait;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    lifecycle::install(m)?;

    errors::register(m)?;
    m.add_class::<client::PyOAuthClient>()?;
    m.add_class::<provider::PyTokenProvider>()?;
    m.add_class::<types::PyToken>()?;
    m.add_class::<types::PyDeviceAuthorization>()?;
    m.add_class::<types::PyAuthorizationRequest>()?;
    m.add_class::<types::PyStats>()?;
    m.add_class::<types::PyCancellationToken>()?;
    m.add_class::<store::PyMemoryStore>()?;
    m.add_class::<store::PyFileStore>()?;
    m.add_class::<store::PyRedisStore>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    #[cfg(feature = "test-hooks")]
    {
        // Private: set as attributes, kept out of `__all__` and the stubs.
        let hook = wrap_pyfunction!(test_hooks::_panic_for_test, m)?;
        m.as_any().setattr("_panic_for_test", hook)?;
        let hook = wrap_pyfunction!(test_hooks::_panic_for_test_async, m)?;
        m.as_any().setattr("_panic_for_test_async", hook)?;
        let hook = wrap_pyfunction!(test_hooks::_panic_for_test_sync, m)?;
        m.as_any().setattr("_panic_for_test_sync", hook)?;
        let hook = wrap_pyfunction!(test_hooks::_calls_into_python_for_test, m)?;
        m.as_any().setattr("_calls_into_python_for_test", hook)?;
    }
    Ok(())
}

#[cfg(feature = "test-hooks")]
mod test_hooks {
    use pyo3::prelude::*;

    use crate::wait::{awaitable, call, wait};

    /// Panics inside the core, waited for with the GIL released: must raise
    /// `TwilioOAuthError`.
    #[pyfunction]
    pub(crate) fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
        wait(py, twilio_oauth::runtime::panic_for_test())
    }

    /// Panics inside the core (async, through the core's guard): must raise
    /// `TwilioOAuthError`.
    #[pyfunction]
    pub(crate) fn _panic_for_test_async(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        awaitable(py, twilio_oauth::runtime::panic_for_test())
    }

    /// Panics in a synchronous call on the caller's thread (the path of cache hits and
    /// constructors, through the core's `guard_sync`): must raise `TwilioOAuthError`.
    #[pyfunction]
    #[allow(clippy::panic)]
    pub(crate) fn _panic_for_test_sync(py: Python<'_>) -> PyResult<()> {
        call(py, || -> twilio_oauth::Result<()> {
            panic!("test hook: deliberate panic in a synchronous call")
        })
    }

    /// How many calls of runtime threads into Python (stores, log records) are under way.
    #[pyfunction]
    pub(crate) fn _calls_into_python_for_test() -> usize {
        crate::lifecycle::in_flight()
    }
}
