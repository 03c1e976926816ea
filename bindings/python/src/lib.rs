//! The Python binding of twilio-oauth: the extension module `twilio_oauth._native`.
//!
//! It converts types and errors only; every behaviour lives in the `twilio-oauth` core.
//! - Sync calls run on the core's runtime and wait with the GIL released, checking for Ctrl-C
//!   between waits; `<name>_async` twins return asyncio awaitables (pyo3-async-runtimes on the
//!   same runtime), and cancelling them drops the Rust future.
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
    let py = m.py();
    let runtime = twilio_oauth::blocking::runtime().map_err(|e| errors::to_pyerr(py, &e))?;
    // Already set when the module is loaded a second time (sub-interpreters, reloads).
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(runtime);
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
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    #[cfg(feature = "test-hooks")]
    {
        // Private: set as attributes, kept out of `__all__` and the stubs.
        let hook = wrap_pyfunction!(test_hooks::_panic_for_test, m)?;
        m.as_any().setattr("_panic_for_test", hook)?;
        let hook = wrap_pyfunction!(test_hooks::_panic_for_test_async, m)?;
        m.as_any().setattr("_panic_for_test_async", hook)?;
    }
    Ok(())
}

#[cfg(feature = "test-hooks")]
mod test_hooks {
    use pyo3::prelude::*;

    use crate::wait::{awaitable, wait};

    /// Panics inside the core (sync): must raise `TwilioOAuthError`.
    #[pyfunction]
    pub(crate) fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
        wait(py, twilio_oauth::blocking::panic_for_test())
    }

    /// Panics inside the core (async): must raise `TwilioOAuthError`.
    #[pyfunction]
    pub(crate) fn _panic_for_test_async(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        awaitable(py, twilio_oauth::blocking::panic_for_test())
    }
}
