//! Errors crossing into JavaScript: each becomes an `Error` made here with its `code`
//! (`ERR_LIVEPOSE_CONFIG`, …) and, for protocol errors, `protocolCode` (`truncated`, …).
//! Functions work with [`Failure`]s and turn them into thrown errors at the boundary, where
//! the JavaScript environment is at hand ([`Failure::throw`]).

use napi::bindgen_prelude::{JsObjectValue, JsValue, Object};
use napi::{Env, JsError};

/// The kinds of livepose errors, as `code` strings of the thrown `Error`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A bad argument.
    Config,
    /// Models or ONNX Runtime missing, or a model failed.
    Model,
    /// An image that cannot be decoded.
    Image,
    /// A message that does not follow the wire protocol (`protocolCode` says how).
    Protocol,
    /// The server could not start.
    Server,
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        match self {
            Code::Config => "ERR_LIVEPOSE_CONFIG",
            Code::Model => "ERR_LIVEPOSE_MODEL",
            Code::Image => "ERR_LIVEPOSE_IMAGE",
            Code::Protocol => "ERR_LIVEPOSE_PROTOCOL",
            Code::Server => "ERR_LIVEPOSE_SERVER",
        }
    }
}

/// A livepose error on its way to JavaScript.
#[derive(Debug, Clone)]
pub struct Failure {
    code: Code,
    message: String,
    protocol_code: Option<&'static str>,
}

/// The result of the native functions' inner work.
pub type Outcome<T> = std::result::Result<T, Failure>;

/// An error of kind `code`.
pub fn error(code: Code, message: impl std::fmt::Display) -> Failure {
    Failure {
        code,
        message: message.to_string(),
        protocol_code: None,
    }
}

/// Options refused (`ERR_LIVEPOSE_CONFIG`), named as JavaScript spells them.
pub fn options(e: livepose_core::options::OptionsError) -> Failure {
    error(Code::Config, e.rename(camel_case))
}

/// A pipeline error: image errors apart from model errors.
pub fn pipeline(e: livepose_core::inference::PipelineError) -> Failure {
    match e {
        livepose_core::inference::PipelineError::Image(e) => error(Code::Image, e),
        other => error(Code::Model, other),
    }
}

/// A wire error, with its protocol code.
pub fn wire(e: livepose_core::wire::WireError) -> Failure {
    Failure {
        protocol_code: Some(e.code()),
        ..error(Code::Protocol, e)
    }
}

impl Failure {
    /// The JavaScript `Error` to throw (or reject with): `code`, `message` and, for protocol
    /// errors, `protocolCode`.
    pub fn throw(self, env: &Env) -> napi::Error {
        let made = (|| -> napi::Result<napi::Error> {
            let error =
                JsError::from(napi::Error::new(self.code, &self.message)).into_unknown(*env);
            if let Some(protocol_code) = self.protocol_code {
                let mut object: Object<'_> = error.coerce_to_object()?;
                object.set_named_property("protocolCode", protocol_code)?;
            }
            Ok(napi::Error::from(error))
        })();
        made.unwrap_or_else(|e| e)
    }
}

/// `num_poses` as JavaScript spells it: `numPoses`.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `numPoses` as Rust spells it: `num_poses`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_convert_both_ways() {
        for (snake, camel) in [
            ("num_poses", "numPoses"),
            ("model", "model"),
            ("max_connections_per_ip", "maxConnectionsPerIp"),
        ] {
            assert_eq!(camel_case(snake), camel);
            assert_eq!(snake_case(camel), snake);
        }
    }
}
