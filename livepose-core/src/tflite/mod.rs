//! MediaPipe's TFLite models, read without TensorFlow: a bounds-checked FlatBuffers reader
//! ([`flatbuf`]) and the model structure livepose needs ([`model`]: tensors with their
//! shapes, types, constant data and sparsity, operators with their options), and the
//! converter to ONNX ([`convert`]), which writes its output with [`crate::onnx::writer`].
//!
//! | module | job |
//! | --- | --- |
//! | [`flatbuf`] | bounds-checked FlatBuffers tables, vectors and strings |
//! | [`model`] | [`TfliteModel`]: tensors, buffers, operators and their options |
//! | [`constant`] | constant tensors as f32 ([`values_f32`]: fp16 widened, block-sparse densified) |
//! | [`convert`] | [`tflite_to_onnx`]: TFLite to an ONNX `ModelProto`, in memory |
//!
//! ```no_run
//! let bytes = std::fs::read("pose_detection.tflite")?;
//! let model = livepose_core::tflite::TfliteModel::parse(&bytes)?;
//! for op in &model.operators {
//!     println!("{:?} {:?} -> {:?}", op.op, op.inputs, op.outputs);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod constant;
pub mod convert;
pub mod flatbuf;
pub mod model;

pub use constant::values_f32;
pub use convert::{model_to_onnx, tflite_to_onnx, ConvertError};
pub use model::{
    Activation, BuiltinOp, DimensionFormat, Operator, Options, Padding, Sparsity, Tensor,
    TensorType, TfliteModel,
};

/// Why a TFLite file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TfliteError {
    /// The bytes are not a well-formed TFLite FlatBuffer (truncated, offsets outside the
    /// file, missing required parts).
    #[error("malformed TFLite model: {0}")]
    Malformed(String),
}
