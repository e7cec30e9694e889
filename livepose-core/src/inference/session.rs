//! One ONNX model in one ONNX Runtime session, configured through [`SessionConfig`].
//!
//! `ort`'s `Session::run` takes `&mut self`: a [`Model`] belongs to one worker (one pipeline)
//! and is never shared behind a lock. Each session defaults to one intra-op thread with
//! spinning off, so that many streams scale across cores instead of fighting over them.

use std::path::{Path, PathBuf};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionOutputs};
use ort::value::{TensorRef, ValueType};

use super::runtime::{runtime, RuntimeError};
use crate::onnx::prune_outputs;

/// ONNX Runtime's graph optimisation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphOptimization {
    /// No rewrites.
    Disable,
    /// Constant folding, redundant node elimination.
    Basic,
    /// Plus node fusions.
    Extended,
    /// Plus layout optimisations (the default).
    #[default]
    All,
}

/// An execution provider. A provider that fails to register is an error, never a silent
/// fall-back to the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecutionProvider {
    /// The CPU (always available).
    #[default]
    Cpu,
    /// NVIDIA CUDA (feature `cuda`; untested until a GPU run).
    #[cfg(feature = "cuda")]
    Cuda,
    /// NVIDIA TensorRT (feature `tensorrt`; untested until a GPU run).
    #[cfg(feature = "tensorrt")]
    TensorRt,
}

/// Options of every session a pipeline creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Intra-op threads per session (default 1).
    pub intra_threads: usize,
    /// Let idle ONNX Runtime threads spin (default off: spinning burns the cores other
    /// streams need).
    pub spinning: bool,
    /// Graph optimisation level (default all).
    pub optimization: GraphOptimization,
    /// Execution providers in order of preference (default: the CPU).
    pub providers: Vec<ExecutionProvider>,
    /// An explicit ONNX Runtime library, tried before `ORT_DYLIB_PATH` and the Python package.
    pub library: Option<PathBuf>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            intra_threads: 1,
            spinning: false,
            optimization: GraphOptimization::All,
            providers: vec![ExecutionProvider::Cpu],
            library: None,
        }
    }
}

impl SessionConfig {
    /// Sets the intra-op thread count (at least 1).
    pub fn intra_threads(mut self, threads: usize) -> Self {
        self.intra_threads = threads.max(1);
        self
    }

    /// Enables or disables thread spinning.
    pub fn spinning(mut self, on: bool) -> Self {
        self.spinning = on;
        self
    }

    /// Sets the graph optimisation level.
    pub fn optimization(mut self, level: GraphOptimization) -> Self {
        self.optimization = level;
        self
    }

    /// Sets the execution providers.
    pub fn providers(mut self, providers: impl IntoIterator<Item = ExecutionProvider>) -> Self {
        self.providers = providers.into_iter().collect();
        self
    }

    /// Uses this ONNX Runtime library file.
    pub fn library(mut self, path: impl Into<PathBuf>) -> Self {
        self.library = Some(path.into());
        self
    }
}

/// Why a model could not be loaded or run.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum InferenceError {
    /// ONNX Runtime itself is missing or unusable.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The model file could not be read or parsed.
    #[error("cannot load model {model}: {reason}")]
    Load {
        /// The model.
        model: String,
        /// Why.
        reason: String,
    },
    /// The model's inputs or outputs are not what livepose expects.
    #[error("model {model} has unexpected {detail}")]
    Signature {
        /// The model.
        model: String,
        /// What differs.
        detail: String,
    },
    /// An execution provider could not be registered.
    #[error("execution provider {provider} failed to register: {reason}")]
    Provider {
        /// The provider.
        provider: &'static str,
        /// Why.
        reason: String,
    },
    /// Running the model failed.
    #[error("running model {model} failed: {reason}")]
    Run {
        /// The model.
        model: String,
        /// Why.
        reason: String,
    },
}

/// The inputs and outputs a model must have: names and shapes (`-1` = any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSignature {
    /// A name for messages (`pose_detection`, …).
    pub name: &'static str,
    /// The single input: name and shape.
    pub input: (&'static str, &'static [i64]),
    /// The outputs livepose reads, in order: name and shape.
    pub outputs: &'static [(&'static str, &'static [i64])],
    /// Outputs the model has but livepose does not read: removed at load together with the
    /// nodes only they need ([`prune_outputs`]), so ONNX Runtime does not compute them.
    pub pruned: &'static [&'static str],
}

impl ModelSignature {
    /// Number of floats in the input tensor.
    pub fn input_len(&self) -> usize {
        self.input.1.iter().map(|d| *d as usize).product()
    }
}

/// Where a model comes from.
#[derive(Debug, Clone, Copy)]
pub enum ModelSource<'a> {
    /// An `.onnx` file.
    Path(&'a Path),
    /// An ONNX model in memory.
    Bytes(&'a [u8]),
}

/// A loaded model: one session, its checked signature, and its input shape.
#[derive(Debug)]
pub struct Model {
    session: Session,
    signature: ModelSignature,
}

impl Model {
    /// Loads `source`, checks it against `signature` and runs it once on zeros (warm-up).
    pub fn load(
        source: ModelSource<'_>,
        signature: ModelSignature,
        config: &SessionConfig,
    ) -> Result<Self, InferenceError> {
        let rt = runtime(config.library.as_deref())?;
        let load_err = |e: &dyn std::fmt::Display| InferenceError::Load {
            model: signature.name.to_string(),
            reason: e.to_string(),
        };
        let mut builder = Session::builder(rt.environment())
            .map_err(|e| load_err(&e))?
            .with_intra_threads(config.intra_threads)
            .map_err(|e| load_err(&e))?
            .with_inter_threads(1)
            .map_err(|e| load_err(&e))?
            .with_intra_op_spinning(config.spinning)
            .map_err(|e| load_err(&e))?
            .with_inter_op_spinning(config.spinning)
            .map_err(|e| load_err(&e))?
            .with_optimization_level(match config.optimization {
                GraphOptimization::Disable => GraphOptimizationLevel::Disable,
                GraphOptimization::Basic => GraphOptimizationLevel::Level1,
                GraphOptimization::Extended => GraphOptimizationLevel::Level2,
                GraphOptimization::All => GraphOptimizationLevel::All,
            })
            .map_err(|e| load_err(&e))?;
        for provider in &config.providers {
            let (name, dispatch) = match provider {
                ExecutionProvider::Cpu => ("CPU", ort::ep::CPU::default().build()),
                #[cfg(feature = "cuda")]
                ExecutionProvider::Cuda => ("CUDA", ort::ep::CUDA::default().build()),
                #[cfg(feature = "tensorrt")]
                ExecutionProvider::TensorRt => ("TensorRT", ort::ep::TensorRT::default().build()),
            };
            builder = builder
                .with_execution_providers([dispatch.error_on_failure()])
                .map_err(|e| InferenceError::Provider {
                    provider: name,
                    reason: e.to_string(),
                })?;
        }
        let session = if signature.pruned.is_empty() {
            match source {
                ModelSource::Path(path) => builder.commit_from_file(path),
                ModelSource::Bytes(bytes) => builder.commit_from_memory(bytes),
            }
        } else {
            let file;
            let bytes = match source {
                ModelSource::Path(path) => {
                    file = std::fs::read(path)
                        .map_err(|e| load_err(&format!("{}: {e}", path.display())))?;
                    &file[..]
                }
                ModelSource::Bytes(bytes) => bytes,
            };
            let pruned = prune_outputs(bytes, signature.pruned).map_err(|e| load_err(&e))?;
            builder.commit_from_memory(&pruned)
        }
        .map_err(|e| load_err(&e))?;
        check_signature(&session, &signature)?;
        let mut model = Model { session, signature };
        let zeros = vec![0.0f32; signature.input_len()];
        model.run(&zeros)?;
        Ok(model)
    }

    /// The signature this model was checked against.
    pub fn signature(&self) -> &ModelSignature {
        &self.signature
    }

    /// Runs the model on `input` (the whole input tensor, row-major).
    pub fn run(&mut self, input: &[f32]) -> Result<SessionOutputs<'_>, InferenceError> {
        let name = self.signature.name;
        let run_err = |e: ort::Error| InferenceError::Run {
            model: name.to_string(),
            reason: e.to_string(),
        };
        let dims = self.signature.input.1;
        if dims.len() > 4 {
            return Err(InferenceError::Signature {
                model: name.to_string(),
                detail: format!("input rank {} (at most 4 supported)", dims.len()),
            });
        }
        let mut shape = [1usize; 4];
        for (s, d) in shape.iter_mut().zip(dims) {
            *s = *d as usize;
        }
        let tensor = TensorRef::from_array_view((&shape[..dims.len()], input)).map_err(run_err)?;
        // The single input is passed by position (checked by name at load).
        self.session.run(ort::inputs![tensor]).map_err(run_err)
    }
}

fn shape_matches(actual: &[i64], expected: &[i64]) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| *a == *e || *a < 0 || *e < 0)
}

fn check_signature(session: &Session, signature: &ModelSignature) -> Result<(), InferenceError> {
    let mismatch = |detail: String| InferenceError::Signature {
        model: signature.name.to_string(),
        detail,
    };
    let describe = |outlets: &[ort::value::Outlet]| {
        outlets
            .iter()
            .map(|o| match o.dtype() {
                ValueType::Tensor { shape, .. } => format!("{} {:?}", o.name(), &shape[..]),
                other => format!("{} {other:?}", o.name()),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let inputs = session.inputs();
    let (in_name, in_shape) = signature.input;
    let input_ok = inputs.len() == 1
        && inputs[0].name() == in_name
        && matches!(inputs[0].dtype(), ValueType::Tensor { shape, .. } if shape_matches(shape, in_shape));
    if !input_ok {
        return Err(mismatch(format!(
            "inputs [{}] (expected {in_name} {in_shape:?})",
            describe(inputs)
        )));
    }
    let outputs = session.outputs();
    let outputs_ok = outputs.len() == signature.outputs.len()
        && outputs.iter().zip(signature.outputs).all(|(o, (name, shape))| {
            o.name() == *name
                && matches!(o.dtype(), ValueType::Tensor { shape: s, .. } if shape_matches(s, shape))
        });
    if !outputs_ok {
        return Err(mismatch(format!(
            "outputs [{}] (expected {:?})",
            describe(outputs),
            signature.outputs
        )));
    }
    Ok(())
}

/// The `i`-th output of a run as f32 values, or a [`InferenceError::Run`] naming `model`.
pub fn output_f32<'a>(
    outputs: &'a SessionOutputs<'_>,
    i: usize,
    model: &str,
) -> Result<&'a [f32], InferenceError> {
    outputs[i]
        .try_extract_tensor::<f32>()
        .map(|(_, values)| values)
        .map_err(|e| InferenceError::Run {
            model: model.to_string(),
            reason: e.to_string(),
        })
}

/// The logistic function: the models output scores, visibility and presence as logits.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
