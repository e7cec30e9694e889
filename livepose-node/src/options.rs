//! JavaScript option objects into livepose's options types (`PipelineOptions`,
//! `ServeOptions`): the object's names go from camelCase to core's snake_case, core parses
//! it once, with its defaults and typed errors, and refusals name options in camelCase. No
//! option is named here.

use livepose_core::options::{parse_options, Options};
use napi::bindgen_prelude::Unknown;
use napi::Env;
use serde_json::Value;

use crate::errors::{self, snake_case, Code, Outcome};

/// Parses a JavaScript options object (or `undefined`/`null`) into `T`.
pub fn parse<T: Options>(env: &Env, options: Option<Unknown<'_>>) -> Outcome<T> {
    let value = match options {
        None => Value::Null,
        Some(object) => env
            .from_js_value::<Value, _>(object)
            .map_err(|e| errors::error(Code::Config, format!("options: {}", e.reason)))?,
    };
    let value = match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(name, value)| (snake_case(&name), value))
                .collect(),
        ),
        other => other,
    };
    parse_options(value).map_err(errors::options)
}
