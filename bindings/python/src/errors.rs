//! The error tree as Python exception classes, and the one conversion from the core's `Error`.
//!
//! The classes are the core's `ERROR_KINDS` (names and parents), created when the module loads
//! (with `type(name, bases, namespace)`, so that `TimeoutError` can also derive from the builtin
//! `TimeoutError`). Every instance carries the same attributes: `status`, `code`, `error`,
//! `message`, `more_info`, `retry_after` (seconds) and `excerpt`, from the core's
//! `ErrorRecord`; the ones a kind does not have are `None`.
//!
//! An error is raised as the class named by its kind, so a kind is never raised as a less
//! specific class; the core's `Error` is exhaustive, and the one `match` on it here has no
//! wildcard arm, so a kind added to the core does not compile here until it is mapped.

use pyo3::exceptions::{PyException, PyRuntimeError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use twilio_oauth::{ERROR_KINDS, Error};

/// The docstring of each class.
fn doc(kind: &str) -> &'static str {
    match kind {
        "TwilioOAuthError" => {
            "The root of every error raised by twilio_oauth (also: an internal error, such as a panic caught before it reached Python)."
        }
        "ConfigError" => {
            "Bad options: a malformed client_id, an empty secret, http:// on a non-loopback host, missing credentials for an endpoint."
        }
        "ApiError" => {
            "The server answered with an error body: see status, code (Twilio's number), error (the RFC 6749 string), message and more_info."
        }
        "RateLimitedError" => {
            "The server kept answering 429 after all retries; retry_after says how long it asked to wait (seconds), when it did."
        }
        "LoginRequiredError" => {
            "A person's login can no longer be refreshed (refresh token refused or reused, grant revoked, session over, or no refresh token at all): sign them in again. A user provider raises it instead of ever falling back to an app token; status, code, error and message are the server's answer."
        }
        "AccessDeniedError" => "Device flow: the user refused the authorization request.",
        "ExpiredTokenError" => "Device flow: the device code expired before the user approved it.",
        "TransportError" => "A connect, TLS, reset or protocol failure.",
        "TimeoutError" => {
            "The request did not complete within the client's timeout (also a builtin TimeoutError)."
        }
        "InvalidResponseError" => {
            "A 2xx answer whose body is not a usable token or device authorization; see status and excerpt."
        }
        "CancelledError" => {
            "The operation was cancelled (for example through a CancellationToken)."
        }
        "StoreError" => "A token store failed to load, save, lock or delete.",
        // Only the docstring has a default: the class itself comes from ERROR_KINDS.
        _ => "An error of twilio_oauth.",
    }
}

/// The attributes every instance has (class-level defaults are `None`).
const ATTRIBUTES: [&str; 7] = [
    "status",
    "code",
    "error",
    "message",
    "more_info",
    "retry_after",
    "excerpt",
];

/// One class per entry of `ERROR_KINDS`, in its order.
static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

/// Creates the classes (once) and adds them to `module`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = CLASSES.get_or_try_init(py, || create_classes(py))?;
    for ((name, _), class) in ERROR_KINDS.iter().zip(classes) {
        module.add(*name, class.bind(py))?;
    }
    Ok(())
}

fn create_classes(py: Python<'_>) -> PyResult<Vec<Py<PyType>>> {
    let type_ = py.get_type::<PyType>();
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
        let namespace = PyDict::new(py);
        namespace.set_item("__doc__", doc(name))?;
        namespace.set_item("__module__", "twilio_oauth")?;
        namespace.set_item("__qualname__", *name)?;
        if parent.is_none() {
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

/// The Python exception for a core error: its own class, `str()` is the core's message (which
/// never contains a secret), and the fields as attributes.
pub(crate) fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    match build(py, error) {
        Ok(err) => err,
        Err(failed) => failed,
    }
}

/// The `message` attribute: the server's own words for the kinds that carry its answer, else
/// what went wrong without the kind's prefix.
fn message(error: &Error) -> String {
    match error {
        Error::Config { message }
        | Error::AccessDenied { message }
        | Error::ExpiredToken { message }
        | Error::Transport { message }
        | Error::Timeout { message }
        | Error::Store { message }
        | Error::Internal { message }
        | Error::InvalidResponse { message, .. } => message.clone(),
        Error::Api(api) | Error::RateLimited(api) | Error::LoginRequired(api) => {
            api.message.clone()
        }
        Error::Cancelled => error.to_string(),
    }
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let record = error.record();
    let class = class(py, record.kind).ok_or_else(|| {
        PyRuntimeError::new_err(format!(
            "{} is not in ERROR_KINDS: {}",
            record.kind, record.message
        ))
    })?;
    let instance = class.call1((record.message.as_str(),))?;
    let set = |name: &str, value: Bound<'_, PyAny>| instance.setattr(name, value);
    let text = |s: &str| s.into_pyobject(py).map(Bound::into_any);
    set("message", text(&message(error))?)?;
    if let Some(status) = record.status {
        set("status", status.into_pyobject(py)?.into_any())?;
    }
    if let Some(code) = record.code {
        set("code", code.into_pyobject(py)?.into_any())?;
    }
    if let Some(e) = &record.error {
        set("error", text(e)?)?;
    }
    if let Some(more_info) = &record.more_info {
        set("more_info", text(more_info)?)?;
    }
    if let Some(retry_after) = record.retry_after {
        set("retry_after", retry_after.into_pyobject(py)?.into_any())?;
    }
    if let Some(excerpt) = &record.excerpt {
        set("excerpt", text(excerpt)?)?;
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
