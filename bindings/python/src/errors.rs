//! The error tree as Python exception classes, and the one conversion from the core's `Error`.
//!
//! The classes are created when the module loads (with `type(name, bases, namespace)`, so that
//! `TimeoutError` can also derive from the builtin `TimeoutError`). Every instance carries the
//! same attributes: `status`, `code`, `error`, `message`, `more_info`, `retry_after` (seconds)
//! and `excerpt`; the ones a kind does not have are `None`.

use pyo3::exceptions::{PyException, PyRuntimeError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use twilio_oauth::Error;

/// One exception class: its name, its parent in the tree, and its docstring.
struct Kind {
    name: &'static str,
    parent: Option<&'static str>,
    doc: &'static str,
}

/// The tree, parents first. Names are the core's `Error::kind()` values.
const KINDS: [Kind; 11] = [
    Kind {
        name: "TwilioOAuthError",
        parent: None,
        doc: "The root of every error raised by twilio_oauth (also: an internal error, such as a panic caught before it reached Python).",
    },
    Kind {
        name: "ConfigError",
        parent: Some("TwilioOAuthError"),
        doc: "Bad options: a malformed client_id, an empty secret, http:// on a non-loopback host, missing credentials for an endpoint.",
    },
    Kind {
        name: "ApiError",
        parent: Some("TwilioOAuthError"),
        doc: "The server answered with an error body: see status, code (Twilio's number), error (the RFC 6749 string), message and more_info.",
    },
    Kind {
        name: "RateLimitedError",
        parent: Some("ApiError"),
        doc: "The server kept answering 429 after all retries; retry_after says how long it asked to wait (seconds), when it did.",
    },
    Kind {
        name: "AccessDeniedError",
        parent: Some("TwilioOAuthError"),
        doc: "Device flow: the user refused the authorization request.",
    },
    Kind {
        name: "ExpiredTokenError",
        parent: Some("TwilioOAuthError"),
        doc: "Device flow: the device code expired before the user approved it.",
    },
    Kind {
        name: "TransportError",
        parent: Some("TwilioOAuthError"),
        doc: "A connect, TLS, reset or protocol failure.",
    },
    Kind {
        name: "TimeoutError",
        parent: Some("TwilioOAuthError"),
        doc: "The request did not complete within the client's timeout (also a builtin TimeoutError).",
    },
    Kind {
        name: "InvalidResponseError",
        parent: Some("TwilioOAuthError"),
        doc: "A 2xx answer whose body is not a usable token or device authorization; see status and excerpt.",
    },
    Kind {
        name: "CancelledError",
        parent: Some("TwilioOAuthError"),
        doc: "The operation was cancelled (for example through a CancellationToken).",
    },
    Kind {
        name: "StoreError",
        parent: Some("TwilioOAuthError"),
        doc: "A token store failed to load, save or delete.",
    },
];

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

static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

/// Creates the classes (once) and adds them to `module`.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = CLASSES.get_or_try_init(py, || create_classes(py))?;
    for (kind, class) in KINDS.iter().zip(classes) {
        module.add(kind.name, class.bind(py))?;
    }
    Ok(())
}

fn create_classes(py: Python<'_>) -> PyResult<Vec<Py<PyType>>> {
    let type_ = py.get_type::<PyType>();
    let mut created: Vec<Py<PyType>> = Vec::with_capacity(KINDS.len());
    for kind in &KINDS {
        let mut bases: Vec<Bound<'_, PyType>> = Vec::with_capacity(2);
        match kind.parent {
            None => bases.push(py.get_type::<PyException>()),
            Some(parent) => {
                let index = KINDS
                    .iter()
                    .position(|k| k.name == parent)
                    .filter(|i| *i < created.len())
                    .ok_or_else(|| {
                        PyRuntimeError::new_err(format!("error class {parent} is not defined yet"))
                    })?;
                bases.push(created[index].bind(py).clone());
            }
        }
        if kind.name == "TimeoutError" {
            bases.push(py.get_type::<PyTimeoutError>());
        }
        let namespace = PyDict::new(py);
        namespace.set_item("__doc__", kind.doc)?;
        namespace.set_item("__module__", "twilio_oauth")?;
        namespace.set_item("__qualname__", kind.name)?;
        if kind.parent.is_none() {
            for attribute in ATTRIBUTES {
                namespace.set_item(attribute, py.None())?;
            }
        }
        let class = type_
            .call1((kind.name, PyTuple::new(py, bases)?, namespace))?
            .cast_into::<PyType>()?;
        created.push(class.unbind());
    }
    Ok(created)
}

fn class<'py>(py: Python<'py>, name: &str) -> Option<Bound<'py, PyType>> {
    let classes = CLASSES.get(py)?;
    let index = KINDS.iter().position(|k| k.name == name)?;
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

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let Some(class) = class(py, error.kind()).or_else(|| class(py, "TwilioOAuthError")) else {
        return Ok(PyRuntimeError::new_err(error.to_string()));
    };
    let instance = class.call1((error.to_string(),))?;
    let set = |name: &str, value: Bound<'_, PyAny>| instance.setattr(name, value);
    let text = |s: &str| s.into_pyobject(py).map(Bound::into_any);
    let message = match error {
        Error::Config { message }
        | Error::AccessDenied { message }
        | Error::ExpiredToken { message }
        | Error::Transport { message }
        | Error::Timeout { message }
        | Error::Store { message }
        | Error::Internal { message } => message.clone(),
        Error::InvalidResponse { message, .. } => message.clone(),
        Error::Api(api) | Error::RateLimited(api) => api.message.clone(),
        other => other.to_string(),
    };
    set("message", text(&message)?)?;
    if let Some(status) = error.status() {
        set("status", status.into_pyobject(py)?.into_any())?;
    }
    if let Some(api) = error.api() {
        if let Some(code) = api.code {
            set("code", code.into_pyobject(py)?.into_any())?;
        }
        if let Some(e) = &api.error {
            set("error", text(e)?)?;
        }
        if let Some(more_info) = &api.more_info {
            set("more_info", text(more_info)?)?;
        }
        if let Some(retry_after) = api.retry_after {
            set(
                "retry_after",
                retry_after.as_secs_f64().into_pyobject(py)?.into_any(),
            )?;
        }
    }
    if let Error::InvalidResponse { excerpt, .. } = error {
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
