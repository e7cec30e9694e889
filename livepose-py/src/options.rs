//! Keyword arguments into livepose's options types (`PipelineOptions`, `ServeOptions`):
//! the values become a JSON-like map, which core parses once, with its defaults and typed
//! errors (raised as `ConfigError`). No option is named here.

use livepose_core::options::{parse_options, Options};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::errors::{self, Kind};

/// Parses keyword arguments into `T`, adding `named` (arguments the signature names, which
/// may come by position; `None` when not given).
pub fn parse<T: Options>(
    kwargs: Option<&Bound<'_, PyDict>>,
    named: &[(&str, Option<&Bound<'_, PyAny>>)],
) -> PyResult<T> {
    let mut map = Map::new();
    if let Some(kwargs) = kwargs {
        for (key, value) in kwargs.iter() {
            map.insert(key.extract::<String>()?, to_value(&value)?);
        }
    }
    for (key, value) in named {
        if let Some(value) = value {
            map.insert((*key).to_string(), to_value(value)?);
        }
    }
    parse_options(Value::Object(map)).map_err(errors::options)
}

/// A Python value as JSON: `None`, `bool`, `int`, `float`, `str`, paths (`os.PathLike`),
/// lists and tuples, dicts with string keys.
fn to_value(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(n) = value.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = value.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        return Err(errors::error(
            Kind::Config,
            format!("{value} is too large"),
            None,
        ));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| {
                errors::error(
                    Kind::Config,
                    format!("{value} is not a finite number"),
                    None,
                )
            });
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::String(s.extract::<String>()?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| to_value(&item?))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::new();
        for (key, item) in dict.iter() {
            map.insert(key.extract::<String>()?, to_value(&item)?);
        }
        return Ok(Value::Object(map));
    }
    let py = value.py();
    if let Ok(path) = py.import("os")?.call_method1("fspath", (value,)) {
        if let Ok(s) = path.extract::<String>() {
            return Ok(Value::String(s));
        }
    }
    Err(errors::error(
        Kind::Config,
        format!(
            "an option value of type {} is not supported",
            value.get_type().name()?
        ),
        None,
    ))
}
