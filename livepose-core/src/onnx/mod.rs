//! ONNX models as bytes, without an ONNX schema crate: the protobuf pieces livepose needs,
//! in one place.
//!
//! - `proto` (crate-private): the protobuf wire format (varints, tags, length-delimited
//!   fields) and a bounds-checked reader that splits a message into its fields.
//! - [`graph`]: reading and editing a serialized `ModelProto`: [`prune_outputs`] drops graph
//!   outputs the pipeline never reads (the landmark models' segmentation head) and every
//!   node and initializer only they needed; [`float_initializers`] reads the float constants.
//! - [`writer`]: a minimal `ModelProto` writer (one graph of nodes, initializers, static
//!   shapes), the output of the TFLite converter (`tflite::convert`).
//!
//! This module depends on nothing else in the crate; `tflite` (the converter) and
//! `inference` (model files, pruning at load) build on it.
//!
//! ```
//! use livepose_core::onnx::writer::{Graph, Node, Value};
//! use livepose_core::onnx::{float_initializers, prune_outputs};
//!
//! let graph = Graph {
//!     name: "g".into(),
//!     nodes: vec![
//!         Node { op: "Relu", inputs: vec!["x".into()], outputs: vec!["a".into()], attributes: vec![] },
//!         Node { op: "Relu", inputs: vec!["x".into()], outputs: vec!["b".into()], attributes: vec![] },
//!     ],
//!     inputs: vec![Value { name: "x".into(), dims: vec![1] }],
//!     outputs: vec![Value { name: "a".into(), dims: vec![1] }, Value { name: "b".into(), dims: vec![1] }],
//!     ..Graph::default()
//! };
//! let model = graph.encode();
//! let pruned = prune_outputs(&model, &["b"])?;
//! assert!(pruned.len() < model.len());
//! assert!(float_initializers(&pruned)?.is_empty());
//! # Ok::<(), livepose_core::onnx::GraphError>(())
//! ```

pub mod graph;
pub(crate) mod proto;
pub mod writer;

pub use graph::{float_initializers, prune_outputs};

/// Why an ONNX model could not be read or pruned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// The bytes are not a well-formed ONNX protobuf.
    #[error("malformed ONNX model: {0}")]
    Malformed(&'static str),
    /// An output to drop is not among the graph's outputs.
    #[error("the model has no output named {0:?}")]
    NoSuchOutput(String),
    /// The graph has control-flow subgraphs, whose references this pruner does not follow.
    #[error("the model has control-flow subgraphs; its outputs cannot be pruned")]
    Subgraphs,
}
