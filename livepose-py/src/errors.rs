//! The exceptions livepose raises, declared here with `create_exception!`: `livepose.Error`
//! and one subclass per kind, so Python code catches them by kind. `ConfigError`,
//! `ImageError` and `ProtocolError` are bad values, so they are `ValueError`s too.

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{create_exception, PyTypeInfo};

create_exception!(
    livepose,
    Error,
    PyException,
    "Base class of every livepose error."
);
create_exception!(
    livepose,
    ConfigError,
    Error,
    "A bad argument: an unknown option or value, a wrong array shape, a bad host. Also a \
     ValueError."
);
create_exception!(
    livepose,
    ModelError,
    Error,
    "Models or ONNX Runtime missing, or a model failed to load or run."
);
create_exception!(
    livepose,
    ImageError,
    Error,
    "An image that cannot be decoded, or one too large to decode. Also a ValueError."
);
create_exception!(
    livepose,
    ProtocolError,
    Error,
    "A message that does not follow the wire protocol; ``code`` is the protocol's error code \
     (``truncated``, ``bad_magic``, ``unsupported_version``, ``inconsistent``, ...; \
     docs/protocol.md section 5). Also a ValueError."
);
create_exception!(
    livepose,
    ServerError,
    Error,
    "The server could not start (address in use, models missing)."
);
create_exception!(
    livepose,
    SlotClosed,
    Error,
    "The ``LatestSlot`` was closed."
);

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("ServerError", py.get_type::<ServerError>())?;
    m.add("SlotClosed", py.get_type::<SlotClosed>())?;
    // `create_exception!` takes one base class; the kinds that are bad values get
    // `ValueError` as their second, so `except ValueError` catches them as before.
    let value_error = PyValueError::type_object(py);
    for (name, class) in [
        ("ConfigError", py.get_type::<ConfigError>()),
        ("ImageError", py.get_type::<ImageError>()),
        ("ProtocolError", py.get_type::<ProtocolError>()),
    ] {
        let bases = PyTuple::new(py, [py.get_type::<Error>(), value_error.clone()])?;
        class.setattr("__bases__", bases)?;
        m.add(name, class)?;
    }
    py.get_type::<ProtocolError>().setattr("code", py.None())?;
    Ok(())
}

/// The kind of a livepose error: which exception class it raises.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A bad argument (unknown model name, wrong array shape).
    Config,
    /// Models or ONNX Runtime missing, or a model failed to load or run.
    Model,
    /// An image that cannot be decoded, or is too large.
    Image,
    /// A message that does not follow the wire protocol (with a `code`).
    Protocol,
    /// The server could not start.
    Server,
    /// A closed slot.
    SlotClosed,
}

/// An exception of `kind` with `message`, and `code` set as its `code` attribute.
pub fn error(kind: Kind, message: impl ToString, code: Option<&str>) -> PyErr {
    let message = message.to_string();
    let err = match kind {
        Kind::Config => ConfigError::new_err(message),
        Kind::Model => ModelError::new_err(message),
        Kind::Image => ImageError::new_err(message),
        Kind::Protocol => ProtocolError::new_err(message),
        Kind::Server => ServerError::new_err(message),
        Kind::SlotClosed => SlotClosed::new_err(message),
    };
    if let Some(code) = code {
        Python::attach(|py| {
            if let Err(e) = err.value(py).setattr("code", code) {
                return e;
            }
            err
        })
    } else {
        err
    }
}

/// Options refused: a `ConfigError`.
pub fn options(e: livepose_core::options::OptionsError) -> PyErr {
    error(Kind::Config, e, None)
}

/// A pipeline error as the matching exception.
pub fn pipeline(e: livepose_core::inference::PipelineError) -> PyErr {
    use livepose_core::inference::PipelineError;
    match e {
        PipelineError::Image(e) => error(Kind::Image, e, None),
        other => error(Kind::Model, other, None),
    }
}

/// A wire error as a `ProtocolError` with the protocol's error code.
pub fn wire(e: livepose_core::wire::WireError) -> PyErr {
    error(Kind::Protocol, &e, Some(e.code()))
}
