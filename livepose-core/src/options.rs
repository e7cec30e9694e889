//! The option vocabulary shared by the pipeline, the wire protocol and every front end (the
//! CLI, the Python and Node bindings): the choices ([`ModelKind`], [`RunMode`],
//! [`SmoothingKind`]) with their one set of names, and reading an options object (JSON, a
//! Python `dict`, a JavaScript object) into a typed options struct with typed errors
//! ([`parse_options`], [`OptionsError`]).
//!
//! The options structs themselves live with what they configure:
//! `inference::PipelineOptions` in this crate, `ServeOptions` in livepose-ws.
//!
//! ```
//! use livepose_core::options::{ModelKind, OptionsError};
//! use livepose_core::inference::PipelineOptions;
//!
//! assert_eq!("full".parse::<ModelKind>(), Ok(ModelKind::Full));
//! assert_eq!(ModelKind::Full.to_string(), "full");
//!
//! let options = PipelineOptions::from_json(r#"{"model": "full", "hands": true}"#).unwrap();
//! assert_eq!(options.model, ModelKind::Full);
//! let err = PipelineOptions::from_json(r#"{"modle": "full"}"#).unwrap_err();
//! assert!(matches!(err, OptionsError::UnknownOption { .. }));
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// Which landmark model to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// BlazePose lite: fastest.
    Lite,
    /// BlazePose full: more accurate.
    Full,
}

/// Smoothing of landmarks across frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmoothingKind {
    /// One Euro with MediaPipe's parameters (the default).
    OneEuro,
    /// livepose's steadier One Euro on image landmarks (a speed floor: camera noise on a
    /// still person is filtered out; see
    /// [`OneEuroParams::STEADY_IMAGE`](crate::smoothing::OneEuroParams::STEADY_IMAGE)),
    /// MediaPipe's on world landmarks. Also with several people.
    Steady,
    /// Exponential moving average, alpha 0.7.
    Ema,
    /// No smoothing.
    None,
}

/// Tracking mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Track across frames: the detector runs only when tracking is lost.
    Live,
    /// Every frame on its own: detector and landmarks each time.
    Image,
}

/// A name that is none of an option's values (see the `FromStr` impls of [`ModelKind`],
/// [`SmoothingKind`] and [`RunMode`], which read the same names as their serde form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {expected})")]
pub struct UnknownOption {
    /// The option: `model`, `smoothing`, `mode`, `image format`.
    pub what: &'static str,
    /// The name given.
    pub value: String,
    /// The names accepted, comma-separated.
    pub expected: &'static str,
}

/// Names each value once, for `FromStr`, `as_str`, `Display` and serde (whose errors are then
/// `FromStr`'s: `unknown model "heavy" (expected one of: lite, full)`).
macro_rules! named_values {
    ($ty:ty, $what:literal, $($name:literal => $variant:path),+ $(,)?) => {
        impl std::str::FromStr for $ty {
            type Err = $crate::options::UnknownOption;

            fn from_str(value: &str) -> Result<Self, $crate::options::UnknownOption> {
                match value {
                    $($name => Ok($variant),)+
                    _ => Err($crate::options::UnknownOption {
                        what: $what,
                        value: value.to_string(),
                        expected: concat!($($name, ", "),+).trim_end_matches(", "),
                    }),
                }
            }
        }

        impl $ty {
            /// The value's name, as in JSON, on the command line and in the bindings.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($variant => $name,)+
                }
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                name.parse().map_err(serde::de::Error::custom)
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use named_values;

named_values!(ModelKind, "model", "lite" => ModelKind::Lite, "full" => ModelKind::Full);
named_values!(
    SmoothingKind, "smoothing",
    "one_euro" => SmoothingKind::OneEuro, "steady" => SmoothingKind::Steady,
    "ema" => SmoothingKind::Ema, "none" => SmoothingKind::None,
);
named_values!(RunMode, "mode", "live" => RunMode::Live, "image" => RunMode::Image);

/// Why an options object was refused. Option names are as the struct spells them
/// (`snake_case`); a front end with other conventions renames them with
/// [`rename`](Self::rename).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A name that is not an option.
    #[error("unknown option {name:?} (expected one of: {expected})")]
    UnknownOption {
        /// The name given.
        name: String,
        /// The options accepted, comma-separated.
        expected: String,
    },
    /// A value of the wrong type, or a name that is none of the option's values.
    #[error("option {option:?}: {message}")]
    InvalidValue {
        /// The option.
        option: String,
        /// What is wrong with the value.
        message: String,
    },
    /// A value of the right type that is out of range, or options that contradict each
    /// other.
    #[error("option {option:?} {message}")]
    OutOfRange {
        /// The option.
        option: String,
        /// What it must be.
        message: String,
    },
    /// Options that are not an object (a JSON array, a number).
    #[error("options must be an object (a map of names to values), got {0}")]
    NotAnObject(String),
}

impl OptionsError {
    /// An out-of-range error for `option`.
    pub fn out_of_range(option: &str, message: impl Into<String>) -> Self {
        OptionsError::OutOfRange {
            option: option.to_string(),
            message: message.into(),
        }
    }

    /// The same error with every option name passed through `rename` (Node spells
    /// `num_poses` as `numPoses`).
    pub fn rename(self, rename: impl Fn(&str) -> String) -> Self {
        match self {
            OptionsError::UnknownOption { name, expected } => OptionsError::UnknownOption {
                name: rename(&name),
                expected: expected
                    .split(", ")
                    .map(&rename)
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            OptionsError::InvalidValue { option, message } => OptionsError::InvalidValue {
                option: rename(&option),
                message,
            },
            OptionsError::OutOfRange { option, message } => OptionsError::OutOfRange {
                option: rename(&option),
                message,
            },
            other => other,
        }
    }
}

/// An options struct a front end builds from an options object: serde-deserialisable, every
/// field defaulted by `Default`, and a check of what types cannot say.
pub trait Options: Serialize + DeserializeOwned + Default {
    /// Checks ranges and combinations.
    fn validate(&self) -> Result<(), OptionsError>;

    /// Reads options from a JSON object: see [`parse_options`].
    fn from_json(json: &str) -> Result<Self, OptionsError> {
        let value: Value = serde_json::from_str(json).map_err(|e| OptionsError::InvalidValue {
            option: String::new(),
            message: e.to_string(),
        })?;
        parse_options(value)
    }
}

/// The option names of `T`, sorted (the keys of its serialised `Default`).
pub fn option_names<T: Options>() -> Vec<String> {
    match serde_json::to_value(T::default()) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Reads an options object into `T`: absent and `null` fields take their defaults, an
/// unknown name is [`OptionsError::UnknownOption`], a bad value names its option
/// ([`OptionsError::InvalidValue`]), then [`Options::validate`] runs.
pub fn parse_options<T: Options>(value: Value) -> Result<T, OptionsError> {
    let map = match value {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => return Err(OptionsError::NotAnObject(kind_of(&other).to_string())),
    };
    let names = option_names::<T>();
    let mut given = Map::new();
    for (name, value) in map {
        if !names.contains(&name) {
            return Err(OptionsError::UnknownOption {
                name,
                expected: names.join(", "),
            });
        }
        if value.is_null() {
            continue;
        }
        // Each value on its own first, so that an error names its option.
        let alone = Map::from_iter([(name.clone(), value)]);
        if let Err(e) = serde_json::from_value::<T>(Value::Object(alone.clone())) {
            return Err(OptionsError::InvalidValue {
                option: name,
                message: e.to_string(),
            });
        }
        given.extend(alone);
    }
    let options: T =
        serde_json::from_value(Value::Object(given)).map_err(|e| OptionsError::InvalidValue {
            option: String::new(),
            message: e.to_string(),
        })?;
    options.validate()?;
    Ok(options)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[test]
    fn names_parse_like_their_serde_form_and_print_the_same() {
        fn check<T>(values: &[T])
        where
            T: Serialize + std::str::FromStr<Err = UnknownOption> + std::fmt::Display,
            T: PartialEq + std::fmt::Debug + Copy,
        {
            for &v in values {
                let name = serde_json::to_value(v).unwrap();
                let name = name.as_str().unwrap();
                assert_eq!(name.parse::<T>(), Ok(v));
                assert_eq!(v.to_string(), name);
            }
        }
        check(&[ModelKind::Lite, ModelKind::Full]);
        check(&[
            SmoothingKind::OneEuro,
            SmoothingKind::Steady,
            SmoothingKind::Ema,
            SmoothingKind::None,
        ]);
        check(&[RunMode::Live, RunMode::Image]);
        let err = "heavy".parse::<ModelKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown model \"heavy\" (expected one of: lite, full)"
        );
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        model: Option<ModelKind>,
        count: u32,
        label: String,
    }

    impl Options for Sample {
        fn validate(&self) -> Result<(), OptionsError> {
            if self.count > 9 {
                return Err(OptionsError::out_of_range("count", "must be at most 9"));
            }
            Ok(())
        }
    }

    #[test]
    fn parsing_names_the_option_at_fault() {
        let parsed: Sample =
            parse_options(serde_json::json!({"model": "full", "count": 3, "label": null})).unwrap();
        assert_eq!(
            parsed,
            Sample {
                model: Some(ModelKind::Full),
                count: 3,
                label: String::new()
            }
        );
        assert_eq!(
            parse_options::<Sample>(Value::Null).unwrap(),
            Sample::default()
        );
        assert_eq!(
            parse_options::<Sample>(serde_json::json!({"cuont": 1})).unwrap_err(),
            OptionsError::UnknownOption {
                name: "cuont".into(),
                expected: "count, label, model".into()
            }
        );
        let err = parse_options::<Sample>(serde_json::json!({"count": "three"})).unwrap_err();
        assert!(
            matches!(&err, OptionsError::InvalidValue { option, message } if option == "count" && message.contains("expected u32")),
            "{err}"
        );
        let err = parse_options::<Sample>(serde_json::json!({"model": "heavy"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "option \"model\": unknown model \"heavy\" (expected one of: lite, full)"
        );
        assert_eq!(
            parse_options::<Sample>(serde_json::json!({"count": 10})).unwrap_err(),
            OptionsError::out_of_range("count", "must be at most 9")
        );
        assert_eq!(
            parse_options::<Sample>(serde_json::json!([1])).unwrap_err(),
            OptionsError::NotAnObject("an array".into())
        );
    }

    #[test]
    fn errors_can_be_renamed_for_other_conventions() {
        let camel = |name: &str| name.replace("num_poses", "numPoses");
        let err = OptionsError::UnknownOption {
            name: "poses".into(),
            expected: "model, num_poses".into(),
        }
        .rename(camel);
        assert_eq!(
            err.to_string(),
            "unknown option \"poses\" (expected one of: model, numPoses)"
        );
        let err = OptionsError::out_of_range("num_poses", "must be at least 1").rename(camel);
        assert_eq!(err.to_string(), "option \"numPoses\" must be at least 1");
    }
}
