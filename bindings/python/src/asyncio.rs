//! Delivering the results of Rust futures to asyncio without running Python on the runtime's
//! threads.
//!
//! `pyo3_async_runtimes::future_into_py` completes the asyncio future from a runtime thread
//! with `loop.call_soon_threadsafe`, which releases the GIL inside Python (writing to the
//! loop's self-pipe). When the program exits right after the `await`, CPython ends that thread
//! in the middle of Rust code and the process aborts at exit. Here a finished future only
//! queues its result and writes one byte to a socket (no Python, no GIL); the event loop
//! watches the socket (`loop.add_reader`) and sets the results on its own thread.
//!
//! Loops without `add_reader` (Windows' proactor loop) fall back to pyo3-async-runtimes.
//!
//! The core's `runtime::guard` (which runs the call, turns a panic into an error and honours
//! cancellation) is a Rust future: it does not replace this, which is about who completes the
//! asyncio future, and on which thread.
//!
//! Each waker belongs to the process that made it: a child created by `fork()` never uses the
//! parent's sockets (it would read the parent's wake-up bytes, and the parent's loop would
//! then wait forever), it makes its own.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::PyNotImplementedError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Turns a finished future's output into the Python value (or exception) to set.
pub(crate) type Deliver =
    Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send + 'static>;

struct Delivery {
    future: Py<PyAny>,
    deliver: Deliver,
}

/// Results waiting for one event loop, and the socket that wakes it.
pub(crate) struct Inbox {
    queue: Mutex<Vec<Delivery>>,
    writer: UnixStream,
    /// A wake-up byte is on its way: later results ride on it.
    armed: AtomicBool,
}

impl Inbox {
    /// Queues a result and wakes the loop. Never touches Python.
    fn push(&self, delivery: Delivery) {
        match self.queue.lock() {
            Ok(mut queue) => queue.push(delivery),
            Err(poisoned) => poisoned.into_inner().push(delivery),
        }
        if !self.armed.swap(true, Ordering::AcqRel) {
            // Non-blocking; a full socket buffer already holds a wake-up byte.
            let _ = (&self.writer).write(&[1]);
        }
    }

    fn take(&self) -> Vec<Delivery> {
        match self.queue.lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

/// Registered with `loop.add_reader`: drains the socket and settles the queued futures.
#[pyclass(frozen, module = "twilio_oauth._native")]
pub(crate) struct LoopWaker {
    inbox: Arc<Inbox>,
    reader: UnixStream,
    /// The process that made it.
    pid: u32,
}

#[pymethods]
impl LoopWaker {
    fn __call__(&self, py: Python<'_>) {
        let mut buf = [0u8; 256];
        loop {
            match (&self.reader).read(&mut buf) {
                Ok(n) if n == buf.len() => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        // Clear before taking: a result queued after this point sends a new byte.
        self.inbox.armed.store(false, Ordering::Release);
        for delivery in self.inbox.take() {
            settle(py, delivery);
        }
    }
}

fn settle(py: Python<'_>, delivery: Delivery) {
    let future = delivery.future.bind(py);
    let done = future
        .call_method0(intern!(py, "done"))
        .and_then(|d| d.is_truthy())
        .unwrap_or(true);
    if done {
        // Cancelled meanwhile.
        return;
    }
    let outcome = match (delivery.deliver)(py) {
        Ok(value) => future.call_method1(intern!(py, "set_result"), (value,)),
        Err(e) => future.call_method1(intern!(py, "set_exception"), (e.into_value(py),)),
    };
    if let Err(e) = outcome {
        e.write_unraisable(py, Some(future));
    }
}

/// The inbox of `event_loop`, created on first use; `None` when the loop cannot watch a
/// socket.
pub(crate) fn inbox_for(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> Option<Arc<Inbox>> {
    // An error (a loop that is not weak-referenceable, no socket): use the fallback.
    try_inbox_for(py, event_loop).unwrap_or_default()
}

/// Loop -> waker, dropped with the loop (closing the sockets).
static WAKERS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// In a child process right after `fork()`: forgets the parent's wakers. Nothing is removed
/// from the loops (their selector may be shared with the parent, which still uses them).
pub(crate) fn after_fork_in_child(py: Python<'_>) -> PyResult<()> {
    if let Some(wakers) = WAKERS.get(py) {
        wakers.bind(py).call_method0(intern!(py, "clear"))?;
    }
    Ok(())
}

fn try_inbox_for(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Option<Arc<Inbox>>> {
    let wakers = WAKERS
        .get_or_try_init(py, || {
            py.import("weakref")?
                .getattr("WeakKeyDictionary")?
                .call0()
                .map(Bound::unbind)
        })?
        .bind(py);
    let pid = std::process::id();
    if let Ok(existing) = wakers.get_item(event_loop)
        && let Ok(waker) = existing.cast::<LoopWaker>()
        && waker.get().pid == pid
    {
        return Ok(Some(waker.get().inbox.clone()));
    }
    let (reader, writer) = UnixStream::pair()?;
    reader.set_nonblocking(true)?;
    writer.set_nonblocking(true)?;
    let fd = reader.as_raw_fd();
    let waker = Bound::new(
        py,
        LoopWaker {
            inbox: Arc::new(Inbox {
                queue: Mutex::new(Vec::new()),
                writer,
                armed: AtomicBool::new(false),
            }),
            reader,
            pid,
        },
    )?;
    match event_loop.call_method1(intern!(py, "add_reader"), (fd, &waker)) {
        Ok(_) => {}
        Err(e) if e.is_instance_of::<PyNotImplementedError>(py) => return Ok(None),
        Err(e) => return Err(e),
    }
    if let Err(e) = wakers.set_item(event_loop, &waker) {
        // Not weak-referenceable: keep the waker alive with the loop instead.
        let _ = event_loop.call_method1(intern!(py, "remove_reader"), (fd,));
        return Err(e);
    }
    Ok(Some(waker.get().inbox.clone()))
}

/// A future on `event_loop` (the running loop), settled through `inbox` with what `fut` gives.
/// `fut` runs to its end on the core's runtime (the caller cancels it through the core's
/// guard and its cancellation token, never by dropping it).
pub(crate) fn spawn<'py, F>(
    py: Python<'py>,
    runtime: &'static tokio::runtime::Runtime,
    event_loop: &Bound<'py, PyAny>,
    inbox: Arc<Inbox>,
    fut: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: std::future::Future<Output = Deliver> + Send + 'static,
{
    let future = event_loop.call_method0(intern!(py, "create_future"))?;
    let target = future.clone().unbind();
    runtime.spawn(async move {
        let deliver = fut.await;
        inbox.push(Delivery {
            future: target,
            deliver,
        });
    });
    Ok(future)
}
