//! The error tree as Python exception classes, and the one conversion from the core's `Error`.
//!
//! The classes are the core's `ERROR_KINDS` (names and parents), created when the module loads
//! (with `type(name, bases, namespace)`, so that `TimeoutError` can also derive from the builtin
//! `TimeoutError`). Every instance carries the fields of the core's `ErrorRecord`, copied one to
//! one: `message` (the human text, what `str(err)` shows), `status`, `code`, `error`,
//! `server_message` (the server's own words), `more_info`, `retry_after` (seconds) and
//! `excerpt`; the ones a kind does not have are `None`.
//!
//! An error is raised as the class named by its record's kind, so a kind is never raised as a
//! less specific class. Nothing here matches on the core's `Error`: a kind added to the core
//! gets its class from `ERROR_KINDS`, and the import fails until it has a docstring below.

use pyo3::exceptions::{PyException, PyRuntimeError, PyTimeoutError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use twilio_oauth::{ERROR_KINDS, Error, ErrorRecord};

/// The docstring of each class, by kind. A kind of `ERROR_KINDS` missing here fails the import
/// (there is no default).
const DOCS: &[(&str, &str)] = &[
    (
        "TwilioOAuthError",
        "The root of every error raised by twilio_oauth (also: an internal error, such as a panic caught before it reached Python). `message` is the human text (what str() shows); the server's own words are in `server_message`.",
    ),
    (
        "ConfigError",
        "Bad options: a malformed client_id, an empty secret, http:// on a non-loopback host, missing credentials for an endpoint.",
    ),
    (
        "ApiError",
        "The server answered with an error body: see status, code (Twilio's number), error (the RFC 6749 string), server_message (the server's own words) and more_info.",
    ),
    (
        "RateLimitedError",
        "The server kept answering 429 after all retries; retry_after says how long it asked to wait (seconds), when it did.",
    ),
    (
        "LoginRequiredError",
        "A person's login can no longer be refreshed (refresh token refused or reused, grant revoked, session over, or no refresh token at all): sign them in again. A user provider raises it instead of ever falling back to an app token; status, code, error and server_message are the server's answer.",
    ),
    (
        "AccessDeniedError",
        "Device flow: the user refused the authorization request.",
    ),
    (
        "ExpiredTokenError",
        "Device flow: the device code expired before the user approved it.",
    ),
    (
        "TransportError",
        "A connect, TLS, reset or protocol failure.",
    ),
    (
        "TimeoutError",
        "The request did not complete within the client's timeout (also a builtin TimeoutError).",
    ),
    (
        "InvalidResponseError",
        "A 2xx answer whose body is not a usable token or device authorization; see status and excerpt.",
    ),
    (
        "CancelledError",
        "The operation was cancelled (for example through a CancellationToken).",
    ),
    (
        "StoreError",
        "A token store failed to load, save, lock or delete.",
    ),
];

/// The record's fields other than `kind`, `parent` and `message`, set on every instance
/// (class-level defaults are `None`). `message` is a property of the root class: `str(err)`.
const ATTRIBUTES: [&str; 7] = [
    "status",
    "code",
    "error",
    "server_message",
    "more_info",
    "retry_after",
    "excerpt",
];

/// One class per entry of `ERROR_KINDS`, in its order.
static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

/// Creates the classes (once) and adds them to `module`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = CLASSES.get_or_try_init(py, || create_classes(module))?;
    for ((name, _), class) in ERROR_KINDS.iter().zip(classes) {
        module.add(*name, class.bind(py))?;
    }
    Ok(())
}

/// `err.message`: the text the exception was made with (what `str(err)` shows; the core's
/// human text for a raised error), unless code assigned another.
#[pyfunction]
fn _error_message<'py>(error: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = error.py();
    if let Ok(dict) = error.getattr(intern!(py, "__dict__"))
        && let Ok(dict) = dict.cast_into::<PyDict>()
        && let Some(assigned) = dict.get_item(intern!(py, "message"))?
    {
        return Ok(assigned);
    }
    error.str().map(Bound::into_any)
}

/// `err.message = ...`, for subclasses that set it in their `__init__`.
#[pyfunction]
fn _set_error_message(error: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = error.py();
    error
        .getattr(intern!(py, "__dict__"))?
        .set_item(intern!(py, "message"), value)
}

fn create_classes(module: &Bound<'_, PyModule>) -> PyResult<Vec<Py<PyType>>> {
    let py = module.py();
    let type_ = py.get_type::<PyType>();
    let message = py.import("builtins")?.getattr("property")?.call1((
        wrap_pyfunction!(_error_message, module)?,
        wrap_pyfunction!(_set_error_message, module)?,
        py.None(),
        "The human text: what str() shows (the server's own words are in server_message).",
    ))?;
    let mut created: Vec<Py<PyType>> = Vec::with_capacity(ERROR_KINDS.len());
    for (name, parent) in ERROR_KINDS {
        let mut bases: Vec<Bound<'_, PyType>> = Vec::with_capacity(2);
        match parent {
            None => bases.push(py.get_type::<PyException>()),
            Some(parent) => {
                let index = ERROR_KINDS
                    .iter()
                    .position(|(k, _)| k == parent)
                    .filter(|i| *i < created.len())
                    .ok_or_else(|| {
                        PyRuntimeError::new_err(format!("error class {parent} is not defined yet"))
                    })?;
                bases.push(created[index].bind(py).clone());
            }
        }
        if *name == "TimeoutError" {
            bases.push(py.get_type::<PyTimeoutError>());
        }
        let doc = DOCS
            .iter()
            .find(|(kind, _)| kind == name)
            .map(|(_, doc)| *doc)
            .ok_or_else(|| {
                PyRuntimeError::new_err(format!("error class {name} has no docstring"))
            })?;
        let namespace = PyDict::new(py);
        namespace.set_item("__doc__", doc)?;
        namespace.set_item("__module__", "twilio_oauth")?;
        namespace.set_item("__qualname__", *name)?;
        if parent.is_none() {
            namespace.set_item("message", &message)?;
            for attribute in ATTRIBUTES {
                namespace.set_item(attribute, py.None())?;
            }
        }
        let class = type_
            .call1((*name, PyTuple::new(py, bases)?, namespace))?
            .cast_into::<PyType>()?;
        created.push(class.unbind());
    }
    Ok(created)
}

fn class<'py>(py: Python<'py>, name: &str) -> Option<Bound<'py, PyType>> {
    let classes = CLASSES.get(py)?;
    let index = ERROR_KINDS.iter().position(|(k, _)| *k == name)?;
    classes.get(index).map(|c| c.bind(py).clone())
}

/// The Python exception for a core error: its own class, `str()` (and `message`) is the
/// core's human text (which never contains a secret), and the other fields as attributes.
pub(crate) fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    match build(py, error.record()) {
        Ok(err) => err,
        Err(failed) => failed,
    }
}

fn build(py: Python<'_>, record: ErrorRecord) -> PyResult<PyErr> {
    // Every field, by name: a field added to the record does not compile here until mapped.
    let ErrorRecord {
        kind,
        parent: _,
        message,
        status,
        code,
        error,
        server_message,
        more_info,
        retry_after,
        excerpt,
    } = record;
    let class = class(py, kind).ok_or_else(|| {
        PyRuntimeError::new_err(format!("{kind} is not in ERROR_KINDS: {message}"))
    })?;
    let instance = class.call1((message,))?;
    let values: [(&str, Bound<'_, PyAny>); ATTRIBUTES.len()] = [
        ("status", status.into_pyobject(py)?.into_any()),
        ("code", code.into_pyobject(py)?.into_any()),
        ("error", error.into_pyobject(py)?.into_any()),
        (
            "server_message",
            server_message.into_pyobject(py)?.into_any(),
        ),
        ("more_info", more_info.into_pyobject(py)?.into_any()),
        ("retry_after", retry_after.into_pyobject(py)?.into_any()),
        ("excerpt", excerpt.into_pyobject(py)?.into_any()),
    ];
    for (name, value) in values {
        instance.setattr(name, value)?;
    }
    Ok(PyErr::from_value(instance))
}

/// A `ConfigError` for bad input caught while converting arguments.
pub(crate) fn config_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_pyerr(
        py,
        &Error::Config {
            message: message.into(),
        },
    )
}
