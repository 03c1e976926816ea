//! Conversions between Rust values and Python values: times, durations, JSON.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDateTime, PyDelta, PyDict, PyList, PyTzInfo};
use serde_json::{Map, Value};

use crate::errors::to_pyerr;

/// An aware `datetime` in UTC.
pub(crate) fn datetime<'py>(py: Python<'py>, t: SystemTime) -> PyResult<Bound<'py, PyAny>> {
    static EPOCH: PyOnceLock<Py<PyDateTime>> = PyOnceLock::new();
    let epoch = EPOCH.get_or_try_init(py, || {
        let utc = PyTzInfo::utc(py)?;
        PyDateTime::new(py, 1970, 1, 1, 0, 0, 0, 0, Some(&utc)).map(Bound::unbind)
    })?;
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let days = i32::try_from(since.as_secs() / 86_400).unwrap_or(i32::MAX);
    // Both below 86 400 and 1 000 000: always fit.
    let seconds = i32::try_from(since.as_secs() % 86_400).unwrap_or(0);
    let micros = i32::try_from(since.subsec_micros()).unwrap_or(0);
    let delta = PyDelta::new(py, days, seconds, micros, false)?;
    epoch.bind(py).as_any().add(delta)
}

/// Seconds (a Python float or int) as a `Duration`, by the core's one rule: negative, NaN or
/// huge values are a `ConfigError` naming the option.
pub(crate) fn seconds(py: Python<'_>, name: &str, value: f64) -> PyResult<Duration> {
    twilio_oauth::runtime::seconds(name, value).map_err(|e| to_pyerr(py, &e))
}

/// A JSON object as a `dict`.
pub(crate) fn json_object<'py>(
    py: Python<'py>,
    map: &Map<String, Value>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(k, json_value(py, v)?)?;
    }
    Ok(dict)
}

fn json_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => json_object(py, map)?.into_any(),
    })
}

/// A string as Python's `repr` writes it (single quotes), for reprs.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
