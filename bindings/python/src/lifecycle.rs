//! The interpreter's shutdown and `fork()`, and the log bridge that respects them.
//!
//! A runtime thread must not be running Python code when the interpreter finalizes: CPython
//! ends a thread that waits for the GIL then, in the middle of Rust code, and the process
//! aborts. Runtime threads call Python (log records, Python token stores) only through
//! [`attach`]; an `atexit` hook (which runs before finalization) stops new calls and waits for
//! the ones under way.
//!
//! After `fork()` the child has only the forking thread: `_after_fork_in_child` (registered by
//! the package with `os.register_at_fork`) forgets what belonged to the parent's threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static EXITING: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// How long the exit hook waits for calls under way (a Python store stuck in I/O must not
/// hold the process forever).
const EXIT_WAIT: Duration = Duration::from_secs(2);

struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `f` attached to Python, unless the interpreter is exiting (`None`).
pub(crate) fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight;
    if EXITING.load(Ordering::SeqCst) {
        return None;
    }
    Some(Python::attach(f))
}

/// Calls into Python under way on runtime threads (for the tests of the fork hook).
#[cfg(feature = "test-hooks")]
pub(crate) fn in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}

#[pyfunction]
fn _interpreter_exiting(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    // With the GIL released, calls under way can finish.
    py.detach(|| {
        let deadline = Instant::now() + EXIT_WAIT;
        while IN_FLIGHT.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Called in a child process right after `fork()` (`os.register_at_fork(after_in_child=...)`,
/// registered by the package): the child starts a runtime and HTTP client of its own on first
/// use (the parent's threads do not exist in it), and forgets the parent's calls into Python
/// under way (which would hold its exit for `EXIT_WAIT`) and the parent's event-loop wakers.
#[pyfunction]
fn _after_fork_in_child(py: Python<'_>) -> PyResult<()> {
    twilio_oauth::runtime::after_fork_in_child();
    IN_FLIGHT.store(0, Ordering::SeqCst);
    #[cfg(unix)]
    crate::asyncio::after_fork_in_child(py)?;
    #[cfg(not(unix))]
    let _ = py;
    Ok(())
}

/// Registers the `atexit` hook, adds the fork hook to `module` (the package registers it with
/// `os.register_at_fork`) and installs the log bridge.
pub(crate) fn install(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let hook = wrap_pyfunction!(_interpreter_exiting, module)?;
    py.import("atexit")?.call_method1("register", (hook,))?;
    let fork_hook = wrap_pyfunction!(_after_fork_in_child, module)?;
    module.as_any().setattr("_after_fork_in_child", fork_hook)?;
    // Fails only when a logger is already installed (the module loaded twice): keep that one.
    if log::set_boxed_logger(Box::new(CoreLogs(PyOnceLock::new()))).is_ok() {
        log::set_max_level(LevelFilter::Debug);
    }
    Ok(())
}

/// Forwards the core's records (targets `twilio_oauth::…`, Python loggers `twilio_oauth.…`)
/// to Python's `logging`. Records of the HTTP stack (hyper, reqwest, rustls) are dropped
/// without touching Python, and nothing is forwarded once the interpreter is exiting.
///
/// The bridge (which imports `logging`) is made on the first record, so that importing the
/// package stays cheap. Loggers are looked up once; levels are read from Python on every
/// record, so configuring `logging` late still works (records come from fetches and failures,
/// never from cache hits).
struct CoreLogs(PyOnceLock<Option<pyo3_log::Logger>>);

impl CoreLogs {
    fn bridge(&self, py: Python<'_>) -> Option<&pyo3_log::Logger> {
        // GIL-aware: a second thread arriving meanwhile does not deadlock on the GIL.
        self.0
            .get_or_init(py, || {
                pyo3_log::Logger::new(py, pyo3_log::Caching::Loggers)
                    .map(|l| l.filter(LevelFilter::Debug))
                    .ok()
            })
            .as_ref()
    }
}

fn ours(target: &str) -> bool {
    target == "twilio_oauth" || target.starts_with("twilio_oauth::")
}

impl Log for CoreLogs {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        ours(metadata.target()) && metadata.level() <= LevelFilter::Debug
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = attach(|py| {
                if let Some(bridge) = self.bridge(py) {
                    bridge.log(record);
                }
            });
        }
    }

    fn flush(&self) {}
}
