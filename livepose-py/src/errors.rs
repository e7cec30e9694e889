//! Rust errors as instances of the Python exception classes of `livepose._errors`
//! (`livepose.Error` and its subclasses), so Python code catches them by kind.

use pyo3::prelude::*;

/// The kind of a livepose error: the name of its class in `livepose._errors`.
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

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Config => "ConfigError",
            Kind::Model => "ModelError",
            Kind::Image => "ImageError",
            Kind::Protocol => "ProtocolError",
            Kind::Server => "ServerError",
            Kind::SlotClosed => "SlotClosed",
        }
    }
}

/// A Python exception of `kind` with `message`, and `code` set as its `code` attribute.
pub fn error(kind: Kind, message: impl ToString, code: Option<&str>) -> PyErr {
    let message = message.to_string();
    Python::attach(|py| {
        let made = py
            .import("livepose._errors")
            .and_then(|m| m.getattr(kind.class()))
            .and_then(|class| class.call1((message.clone(),)));
        match made {
            Ok(instance) => {
                if let Some(code) = code {
                    if let Err(e) = instance.setattr("code", code) {
                        return e;
                    }
                }
                PyErr::from_value(instance)
            }
            // The package's Python layer is missing (the module imported on its own).
            Err(_) => pyo3::exceptions::PyRuntimeError::new_err(message),
        }
    })
}

/// A pipeline error as the matching Python exception.
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
