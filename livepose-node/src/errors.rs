//! Errors crossing into JavaScript: a message prefixed with the error's code
//! (`ERR_LIVEPOSE_IMAGE: …`), which `index.js` moves into the thrown `Error`'s `code`.

use napi::{Error, Status};

/// The kinds of livepose errors, as `code` strings of the thrown `Error`s.
#[derive(Debug, Clone, Copy)]
pub enum Code {
    /// A bad argument.
    Config,
    /// Models or ONNX Runtime missing, or a model failed.
    Model,
    /// An image that cannot be decoded.
    Image,
    /// A message that does not follow the wire protocol (the protocol's code follows).
    Protocol,
    /// The server could not start.
    Server,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Code::Config => "ERR_LIVEPOSE_CONFIG",
            Code::Model => "ERR_LIVEPOSE_MODEL",
            Code::Image => "ERR_LIVEPOSE_IMAGE",
            Code::Protocol => "ERR_LIVEPOSE_PROTOCOL",
            Code::Server => "ERR_LIVEPOSE_SERVER",
        }
    }
}

/// An error of kind `code`.
pub fn error(code: Code, message: impl std::fmt::Display) -> Error {
    let status = match code {
        Code::Config => Status::InvalidArg,
        _ => Status::GenericFailure,
    };
    Error::new(status, format!("{}: {message}", code.as_str()))
}

/// A pipeline error: image errors apart from model errors.
pub fn pipeline(e: livepose_core::inference::PipelineError) -> Error {
    match e {
        livepose_core::inference::PipelineError::Image(e) => error(Code::Image, e),
        other => error(Code::Model, other),
    }
}

/// A wire error, its protocol code first (`truncated: …`).
pub fn wire(e: livepose_core::wire::WireError) -> Error {
    error(Code::Protocol, format!("{}: {e}", e.code()))
}
