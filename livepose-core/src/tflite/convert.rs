//! TFLite to ONNX, in memory: MediaPipe's pose and hand models as ONNX Runtime runs them.
//!
//! Activations keep TFLite's NHWC layout; each spatial operator (convolutions, pools,
//! resize, depth-to-space) is wrapped in a pair of Transposes to ONNX's NCHW and back, which
//! ONNX Runtime's transpose optimiser cancels between neighbours. Weights are constants
//! rearranged at conversion (OHWI to OIHW); DENSIFY and DEQUANTIZE of constant weights are
//! evaluated here, so the ONNX graph holds dense float32 weights. `SAME` padding becomes
//! explicit pads from the static shapes. An operator outside the supported list is a
//! [`ConvertError::Unsupported`] naming it and the model.

use std::collections::HashMap;

use super::constant::values_f32;
use super::model::{Activation, BuiltinOp, Operator, Options, Padding, TensorType, TfliteModel};
use super::TfliteError;
use crate::onnx::writer::{Attribute, Data, Graph, Initializer, Node, Value};

/// Why a model could not be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The file is not a readable TFLite model.
    #[error(transparent)]
    Tflite(#[from] TfliteError),
    /// An operator (or a use of one) the converter does not handle.
    #[error("{model}: unsupported TFLite operator {op}")]
    Unsupported {
        /// The model's name.
        model: String,
        /// The operator, with what is unsupported about it.
        op: String,
    },
    /// The model is readable but inconsistent (a missing weight, a shape that does not fit).
    #[error("{model}: {message}")]
    Invalid {
        /// The model's name.
        model: String,
        /// What is wrong.
        message: String,
    },
}

/// Converts a `.tflite` file's bytes into a serialized ONNX model; `name` names the model in
/// errors and in the graph.
pub fn tflite_to_onnx(bytes: &[u8], name: &str) -> Result<Vec<u8>, ConvertError> {
    model_to_onnx(&TfliteModel::parse(bytes)?, name)
}

/// Converts a parsed model into a serialized ONNX model (see [`tflite_to_onnx`]).
pub fn model_to_onnx(model: &TfliteModel<'_>, name: &str) -> Result<Vec<u8>, ConvertError> {
    let mut converter = Converter {
        model,
        name: name.to_string(),
        graph: Graph {
            name: name.to_string(),
            ..Graph::default()
        },
        constants: HashMap::new(),
        fresh: 0,
    };
    converter.run()?;
    Ok(converter.graph.encode())
}

const TO_NCHW: [i64; 4] = [0, 3, 1, 2];
const TO_NHWC: [i64; 4] = [0, 2, 3, 1];

struct Converter<'m, 'a> {
    model: &'m TfliteModel<'a>,
    name: String,
    graph: Graph,
    /// Float constants by tensor index (weights, and what DENSIFY/DEQUANTIZE make of them).
    constants: HashMap<usize, Vec<f32>>,
    fresh: usize,
}

fn ints(values: &[i64]) -> Attribute {
    Attribute::Ints(values.to_vec())
}

impl Converter<'_, '_> {
    fn invalid(&self, message: impl Into<String>) -> ConvertError {
        ConvertError::Invalid {
            model: self.name.clone(),
            message: message.into(),
        }
    }

    fn unsupported(&self, op: impl Into<String>) -> ConvertError {
        ConvertError::Unsupported {
            model: self.name.clone(),
            op: op.into(),
        }
    }

    fn index(&self, i: i32) -> Result<usize, ConvertError> {
        self.model.tensor(i)?;
        Ok(i as usize)
    }

    /// The ONNX name of tensor `i`: its own for graph inputs and outputs, else `t{i}`.
    fn value(&self, i: usize) -> String {
        let io = self
            .model
            .inputs
            .iter()
            .chain(&self.model.outputs)
            .any(|&x| x as usize == i);
        if io {
            self.model.tensors[i].name.clone()
        } else {
            format!("t{i}")
        }
    }

    fn temp(&mut self) -> String {
        self.fresh += 1;
        format!("lp{}", self.fresh)
    }

    fn shape(&self, i: usize) -> Vec<i64> {
        self.model.tensors[i]
            .shape
            .iter()
            .map(|&d| i64::from(d))
            .collect()
    }

    fn node(
        &mut self,
        op: &'static str,
        inputs: Vec<String>,
        outputs: Vec<String>,
        attributes: Vec<(&'static str, Attribute)>,
    ) {
        self.graph.nodes.push(Node {
            op,
            inputs,
            outputs,
            attributes,
        });
    }

    fn initializer(&mut self, dims: Vec<i64>, data: Data) -> String {
        let name = self.temp();
        self.graph.initializers.push(Initializer {
            name: name.clone(),
            dims,
            data,
        });
        name
    }

    /// The float values of constant tensor `i` (dense, widened), if it is one.
    fn float_constant(&mut self, i: usize) -> Result<Option<Vec<f32>>, ConvertError> {
        if let Some(v) = self.constants.get(&i) {
            return Ok(Some(v.clone()));
        }
        let t = &self.model.tensors[i];
        if t.data.is_none() || !matches!(t.dtype, TensorType::Float32 | TensorType::Float16) {
            return Ok(None);
        }
        let values = values_f32(t)?;
        self.constants.insert(i, values.clone());
        Ok(Some(values))
    }

    fn weights(&mut self, i: i32, what: &str) -> Result<(Vec<f32>, Vec<i64>), ConvertError> {
        let i = self.index(i)?;
        let values = self
            .float_constant(i)?
            .ok_or_else(|| self.invalid(format!("{what} (tensor {i}) is not a constant")))?;
        Ok((values, self.shape(i)))
    }

    /// The integer values of constant tensor `i` (int32 or int64 data).
    fn int_constant(&self, i: i32) -> Result<Vec<i64>, ConvertError> {
        let t = self.model.tensor(i)?;
        let data = t
            .data
            .ok_or_else(|| self.invalid(format!("tensor {:?} is not a constant", t.name)))?;
        Ok(match t.dtype {
            TensorType::Int32 => data
                .chunks_exact(4)
                .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
            TensorType::Int64 => data
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect(),
            other => {
                return Err(
                    self.invalid(format!("tensor {:?} holds {other:?}, not integers", t.name))
                )
            }
        })
    }

    /// The ONNX name of an operand: a constant becomes an initializer of its TFLite shape.
    fn operand(&mut self, i: i32) -> Result<String, ConvertError> {
        let i = self.index(i)?;
        match self.float_constant(i)? {
            Some(values) => {
                let dims = self.shape(i);
                Ok(self.initializer(dims, Data::Float(values)))
            }
            None => Ok(self.value(i)),
        }
    }

    /// Emits the node of `activation` from `input` into `output`.
    fn activation_node(
        &mut self,
        activation: Activation,
        input: String,
        output: String,
    ) -> Result<(), ConvertError> {
        let clip = |c: &mut Self, lo: f32, hi: f32| {
            let lo = c.initializer(vec![], Data::Float(vec![lo]));
            let hi = c.initializer(vec![], Data::Float(vec![hi]));
            ("Clip", vec![lo, hi])
        };
        let (op, extra): (&'static str, Vec<String>) = match activation {
            Activation::None => ("Identity", vec![]),
            Activation::Relu => ("Relu", vec![]),
            Activation::Relu6 => clip(self, 0.0, 6.0),
            Activation::ReluN1To1 => clip(self, -1.0, 1.0),
            Activation::Tanh => ("Tanh", vec![]),
            Activation::Other(code) => {
                return Err(self.unsupported(format!("fused activation {code}")))
            }
        };
        let mut inputs = vec![input];
        inputs.extend(extra);
        self.node(op, inputs, vec![output], vec![]);
        Ok(())
    }

    /// Emits an operator through `emit` (given the name to write) followed by its fused
    /// `activation` into `out`, keeping the nodes in topological order; without an
    /// activation the operator writes `out` itself.
    fn with_activation(
        &mut self,
        activation: Activation,
        out: &str,
        emit: impl FnOnce(&mut Self, String),
    ) -> Result<(), ConvertError> {
        if activation == Activation::None {
            emit(self, out.to_string());
            return Ok(());
        }
        let pre = self.temp();
        emit(self, pre.clone());
        self.activation_node(activation, pre, out.to_string())
    }

    /// `x` (NHWC) transposed to NCHW.
    fn transpose_to_nchw(&mut self, x: String) -> String {
        let y = self.temp();
        self.node(
            "Transpose",
            vec![x],
            vec![y.clone()],
            vec![("perm", ints(&TO_NCHW))],
        );
        y
    }

    /// Explicit `[top, left, bottom, right]` pads for TFLite's padding of a window of
    /// `kernel` (already dilated) with `stride` over the NHWC `input` shape.
    fn pads(
        &self,
        padding: Padding,
        input: &[i64],
        kernel: (i64, i64),
        stride: (i64, i64),
    ) -> Result<Vec<i64>, ConvertError> {
        if input.len() != 4 || stride.0 <= 0 || stride.1 <= 0 {
            return Err(self.invalid(format!(
                "window over shape {input:?} with stride {stride:?}"
            )));
        }
        Ok(match padding {
            Padding::Valid => vec![0, 0, 0, 0],
            Padding::Same => {
                let total = |size: i64, k: i64, s: i64| {
                    let out = (size + s - 1) / s;
                    ((out - 1) * s + k - size).max(0)
                };
                let (th, tw) = (
                    total(input[1], kernel.0, stride.0),
                    total(input[2], kernel.1, stride.1),
                );
                vec![th / 2, tw / 2, th - th / 2, tw - tw / 2]
            }
        })
    }

    fn run(&mut self) -> Result<(), ConvertError> {
        for &i in &self.model.inputs {
            let i = self.index(i)?;
            let value = Value {
                name: self.value(i),
                dims: self.shape(i),
            };
            self.graph.inputs.push(value);
        }
        for op in &self.model.operators {
            self.operator(op)?;
        }
        for &i in &self.model.outputs {
            let i = self.index(i)?;
            let value = Value {
                name: self.value(i),
                dims: self.shape(i),
            };
            self.graph.outputs.push(value);
        }
        Ok(())
    }

    fn operator(&mut self, op: &Operator) -> Result<(), ConvertError> {
        let model = self.name.clone();
        let input = |k: usize| -> Result<i32, ConvertError> {
            op.inputs
                .get(k)
                .copied()
                .filter(|&i| i >= 0)
                .ok_or_else(|| ConvertError::Invalid {
                    model: model.clone(),
                    message: format!("{:?} lacks input {k}", op.op),
                })
        };
        let out_index = self.index(
            *op.outputs
                .first()
                .ok_or_else(|| self.invalid(format!("{:?} has no output", op.op)))?,
        )?;
        let out = self.value(out_index);
        match (op.op, &op.options) {
            (BuiltinOp::Densify | BuiltinOp::Dequantize, _) => {
                let x = self.index(input(0)?)?;
                let values = self.float_constant(x)?.ok_or_else(|| {
                    self.unsupported(format!("{:?} of a non-constant tensor", op.op))
                })?;
                self.constants.insert(out_index, values);
            }
            (
                BuiltinOp::Conv2d,
                Options::Conv2d {
                    padding,
                    stride,
                    dilation,
                    activation,
                },
            ) => {
                let (w, dims) = self.weights(input(1)?, "convolution weights")?;
                let [o, kh, kw, ci] = <[i64; 4]>::try_from(dims)
                    .map_err(|d| self.invalid(format!("convolution weights of shape {d:?}")))?;
                let oihw = ohwi_to_oihw(&w, o, kh, kw, ci);
                self.conv(
                    op,
                    input(0)?,
                    oihw,
                    [o, ci, kh, kw],
                    1,
                    *padding,
                    *stride,
                    *dilation,
                    *activation,
                    &out,
                )?;
            }
            (
                BuiltinOp::DepthwiseConv2d,
                Options::DepthwiseConv2d {
                    padding,
                    stride,
                    dilation,
                    activation,
                    ..
                },
            ) => {
                let (w, dims) = self.weights(input(1)?, "depthwise weights")?;
                let [one, kh, kw, o] = <[i64; 4]>::try_from(dims)
                    .map_err(|d| self.invalid(format!("depthwise weights of shape {d:?}")))?;
                if one != 1 {
                    return Err(self.invalid(format!(
                        "depthwise weights of shape [{one}, {kh}, {kw}, {o}]"
                    )));
                }
                let channels = self
                    .shape(self.index(input(0)?)?)
                    .get(3)
                    .copied()
                    .unwrap_or(0);
                // [1, H, W, O] to [O, 1, H, W]: the same transposition with I = 1.
                let weights = ohwi_to_oihw(&transpose_1hwo(&w, kh, kw, o), o, kh, kw, 1);
                self.conv(
                    op,
                    input(0)?,
                    weights,
                    [o, 1, kh, kw],
                    channels,
                    *padding,
                    *stride,
                    *dilation,
                    *activation,
                    &out,
                )?;
            }
            (
                BuiltinOp::MaxPool2d | BuiltinOp::AveragePool2d,
                Options::Pool2d {
                    padding,
                    stride,
                    filter,
                    activation,
                },
            ) => {
                let x = self.index(input(0)?)?;
                let pads = self.pads(
                    *padding,
                    &self.shape(x),
                    (i64::from(filter.1), i64::from(filter.0)),
                    (i64::from(stride.1), i64::from(stride.0)),
                )?;
                let xt = self.transpose_to_nchw(self.value(x));
                let (kind, mut attributes) = if op.op == BuiltinOp::MaxPool2d {
                    ("MaxPool", vec![])
                } else {
                    (
                        "AveragePool",
                        vec![("count_include_pad", Attribute::Int(0))],
                    )
                };
                attributes.extend([
                    (
                        "kernel_shape",
                        ints(&[i64::from(filter.1), i64::from(filter.0)]),
                    ),
                    ("strides", ints(&[i64::from(stride.1), i64::from(stride.0)])),
                    ("pads", Attribute::Ints(pads)),
                ]);
                let nchw = self.temp();
                self.with_activation(*activation, &nchw, |c, y| {
                    c.node(kind, vec![xt], vec![y], attributes)
                })?;
                self.transpose_to_nhwc(nchw, &out);
            }
            (BuiltinOp::Add | BuiltinOp::Mul, options) => {
                let activation = match *options {
                    Options::Elementwise { activation } => activation,
                    _ => Activation::None,
                };
                let (a, b) = (self.operand(input(0)?)?, self.operand(input(1)?)?);
                let kind = if op.op == BuiltinOp::Add {
                    "Add"
                } else {
                    "Mul"
                };
                self.with_activation(activation, &out, |c, y| {
                    c.node(kind, vec![a, b], vec![y], vec![])
                })?;
            }
            (BuiltinOp::Concatenation, Options::Concatenation { axis, activation }) => {
                let rank = self.shape(out_index).len() as i64;
                let axis = if *axis < 0 {
                    i64::from(*axis) + rank
                } else {
                    i64::from(*axis)
                };
                let inputs = op
                    .inputs
                    .iter()
                    .map(|&i| self.operand(i))
                    .collect::<Result<Vec<_>, _>>()?;
                self.with_activation(*activation, &out, |c, y| {
                    c.node(
                        "Concat",
                        inputs,
                        vec![y],
                        vec![("axis", Attribute::Int(axis))],
                    )
                })?;
            }
            (BuiltinOp::Reshape, _) => {
                let x = self.operand(input(0)?)?;
                let shape = self.initializer(
                    vec![self.shape(out_index).len() as i64],
                    Data::Int64(self.shape(out_index)),
                );
                self.node("Reshape", vec![x, shape], vec![out], vec![]);
            }
            (BuiltinOp::Pad, _) => {
                let x = self.operand(input(0)?)?;
                let paddings = self.int_constant(input(1)?)?;
                let rank = paddings.len() / 2;
                let pads: Vec<i64> = (0..rank)
                    .map(|d| paddings[2 * d])
                    .chain((0..rank).map(|d| paddings[2 * d + 1]))
                    .collect();
                let pads = self.initializer(vec![pads.len() as i64], Data::Int64(pads));
                self.node(
                    "Pad",
                    vec![x, pads],
                    vec![out],
                    vec![("mode", Attribute::Str("constant".into()))],
                );
            }
            (BuiltinOp::Mean, Options::Mean { keep_dims }) => {
                let x = self.operand(input(0)?)?;
                let axes = self.int_constant(input(1)?)?;
                self.node(
                    "ReduceMean",
                    vec![x],
                    vec![out],
                    vec![
                        ("axes", Attribute::Ints(axes)),
                        ("keepdims", Attribute::Int(i64::from(*keep_dims))),
                    ],
                );
            }
            (
                BuiltinOp::ResizeBilinear,
                Options::ResizeBilinear {
                    align_corners,
                    half_pixel_centers,
                },
            ) => {
                let x = self.index(input(0)?)?;
                let [n, h, w, c] = <[i64; 4]>::try_from(self.shape(out_index))
                    .map_err(|d| self.invalid(format!("resize to shape {d:?}")))?;
                let sizes = [n, c, h, w];
                let sizes = self.initializer(vec![4], Data::Int64(sizes.to_vec()));
                let mode = match (align_corners, half_pixel_centers) {
                    (true, _) => "align_corners",
                    (false, true) => "half_pixel",
                    (false, false) => "asymmetric",
                };
                let xt = self.transpose_to_nchw(self.value(x));
                let y = self.temp();
                self.node(
                    "Resize",
                    vec![xt, String::new(), String::new(), sizes],
                    vec![y.clone()],
                    vec![
                        ("mode", Attribute::Str("linear".into())),
                        (
                            "coordinate_transformation_mode",
                            Attribute::Str(mode.into()),
                        ),
                    ],
                );
                self.transpose_to_nhwc(y, &out);
            }
            (BuiltinOp::DepthToSpace, Options::DepthToSpace { block_size }) => {
                let x = self.index(input(0)?)?;
                let xt = self.transpose_to_nchw(self.value(x));
                let y = self.temp();
                self.node(
                    "DepthToSpace",
                    vec![xt],
                    vec![y.clone()],
                    vec![
                        ("blocksize", Attribute::Int(i64::from(*block_size))),
                        ("mode", Attribute::Str("DCR".into())),
                    ],
                );
                self.transpose_to_nhwc(y, &out);
            }
            (
                BuiltinOp::FullyConnected,
                Options::FullyConnected {
                    activation,
                    keep_num_dims,
                },
            ) => {
                let (w, dims) = self.weights(input(1)?, "fully connected weights")?;
                let [o, k] = <[i64; 2]>::try_from(dims)
                    .map_err(|d| self.invalid(format!("fully connected weights of shape {d:?}")))?;
                let x = self.operand(input(0)?)?;
                let flat = self.temp();
                let shape = self.initializer(vec![2], Data::Int64(vec![-1, k]));
                self.node("Reshape", vec![x, shape], vec![flat.clone()], vec![]);
                let w = self.initializer(vec![o, k], Data::Float(w));
                let b = match op.inputs.get(2).copied().filter(|&i| i >= 0) {
                    Some(i) => self.weights(i, "fully connected bias")?.0,
                    None => vec![0.0; o as usize],
                };
                let b = self.initializer(vec![o], Data::Float(b));
                let out_shape = self.shape(out_index);
                let gemm_inputs = vec![flat, w, b];
                let transposed = vec![("transB", Attribute::Int(1))];
                if *keep_num_dims || out_shape.len() != 2 {
                    let gemm = self.temp();
                    self.node("Gemm", gemm_inputs, vec![gemm.clone()], transposed);
                    let shape =
                        self.initializer(vec![out_shape.len() as i64], Data::Int64(out_shape));
                    self.with_activation(*activation, &out, |c, y| {
                        c.node("Reshape", vec![gemm, shape], vec![y], vec![])
                    })?;
                } else {
                    self.with_activation(*activation, &out, |c, y| {
                        c.node("Gemm", gemm_inputs, vec![y], transposed)
                    })?;
                }
            }
            (BuiltinOp::Logistic | BuiltinOp::Relu, _) => {
                let x = self.operand(input(0)?)?;
                let kind = if op.op == BuiltinOp::Logistic {
                    "Sigmoid"
                } else {
                    "Relu"
                };
                self.node(kind, vec![x], vec![out], vec![]);
            }
            (BuiltinOp::Relu6, _) => {
                let x = self.operand(input(0)?)?;
                self.activation_node(Activation::Relu6, x, out)?;
            }
            (BuiltinOp::Prelu, _) => {
                let (x, alpha) = (self.operand(input(0)?)?, self.operand(input(1)?)?);
                self.node("PRelu", vec![x, alpha], vec![out], vec![]);
            }
            (other, options) => {
                let what = match (op.custom.as_deref(), other) {
                    (Some(custom), _) => format!("custom operator {custom:?}"),
                    (None, BuiltinOp::Other(code)) => format!("with builtin code {code}"),
                    (None, known) => format!("{known:?} with options {options:?}"),
                };
                return Err(self.unsupported(what));
            }
        }
        Ok(())
    }

    /// `y` (NCHW) back to NHWC into `out`.
    fn transpose_to_nhwc(&mut self, y: String, out: &str) {
        self.node(
            "Transpose",
            vec![y],
            vec![out.to_string()],
            vec![("perm", ints(&TO_NHWC))],
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        op: &Operator,
        x: i32,
        weights: Vec<f32>,
        oihw: [i64; 4],
        group: i64,
        padding: Padding,
        stride: (i32, i32),
        dilation: (i32, i32),
        activation: Activation,
        out: &str,
    ) -> Result<(), ConvertError> {
        let x = self.index(x)?;
        let [o, _, kh, kw] = oihw;
        let (dh, dw) = (i64::from(dilation.1), i64::from(dilation.0));
        let (sh, sw) = (i64::from(stride.1), i64::from(stride.0));
        let pads = self.pads(
            padding,
            &self.shape(x),
            ((kh - 1) * dh + 1, (kw - 1) * dw + 1),
            (sh, sw),
        )?;
        let bias = match op.inputs.get(2).copied().filter(|&i| i >= 0) {
            Some(i) => self.weights(i, "convolution bias")?.0,
            None => vec![0.0; o as usize],
        };
        let w = self.initializer(oihw.to_vec(), Data::Float(weights));
        let b = self.initializer(vec![o], Data::Float(bias));
        let xt = self.transpose_to_nchw(self.value(x));
        let nchw = self.temp();
        let attributes = vec![
            ("kernel_shape", ints(&[kh, kw])),
            ("strides", ints(&[sh, sw])),
            ("dilations", ints(&[dh, dw])),
            ("pads", Attribute::Ints(pads)),
            ("group", Attribute::Int(group)),
        ];
        self.with_activation(activation, &nchw, |c, y| {
            c.node("Conv", vec![xt, w, b], vec![y], attributes)
        })?;
        self.transpose_to_nhwc(nchw, out);
        Ok(())
    }
}

/// `[O, H, W, I]` row-major to `[O, I, H, W]`.
fn ohwi_to_oihw(w: &[f32], o: i64, h: i64, wd: i64, i: i64) -> Vec<f32> {
    let (o, h, wd, i) = (o as usize, h as usize, wd as usize, i as usize);
    let mut out = vec![0.0; w.len()];
    for (n, v) in w.iter().enumerate().take(o * h * wd * i) {
        let (oo, hh, ww, ii) = (n / (h * wd * i), n / (wd * i) % h, n / i % wd, n % i);
        out[((oo * i + ii) * h + hh) * wd + ww] = *v;
    }
    out
}

/// Depthwise `[1, H, W, O]` to `[O, H, W, 1]`.
fn transpose_1hwo(w: &[f32], h: i64, wd: i64, o: i64) -> Vec<f32> {
    let (h, wd, o) = (h as usize, wd as usize, o as usize);
    let mut out = vec![0.0; w.len()];
    for (n, v) in w.iter().enumerate().take(h * wd * o) {
        let (hh, ww, oo) = (n / (wd * o), n / o % wd, n % o);
        out[(oo * h + hh) * wd + ww] = *v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tflite::model::{Operator, Tensor};

    fn tensor(name: &str, shape: &[i32]) -> Tensor<'static> {
        Tensor {
            name: name.into(),
            shape: shape.to_vec(),
            dtype: TensorType::Float32,
            data: None,
            sparsity: None,
        }
    }

    fn model(op: BuiltinOp, custom: Option<&str>) -> TfliteModel<'static> {
        TfliteModel {
            version: 3,
            tensors: vec![tensor("input_1", &[1, 4]), tensor("Identity", &[1, 4])],
            inputs: vec![0],
            outputs: vec![1],
            operators: vec![Operator {
                op,
                custom: custom.map(str::to_string),
                inputs: vec![0],
                outputs: vec![1],
                options: Options::None,
            }],
        }
    }

    #[test]
    fn an_unsupported_operator_is_named_with_the_model() {
        let err = model_to_onnx(&model(BuiltinOp::Other(25), None), "softmax.tflite").unwrap_err();
        assert_eq!(
            err.to_string(),
            "softmax.tflite: unsupported TFLite operator with builtin code 25"
        );
        let err = model_to_onnx(
            &model(BuiltinOp::Other(32), Some("Convolution2DTransposeBias")),
            "seg.tflite",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("custom operator \"Convolution2DTransposeBias\""),
            "{err}"
        );
    }

    #[test]
    fn a_supported_operator_converts() {
        let onnx = model_to_onnx(&model(BuiltinOp::Logistic, None), "sigmoid.tflite").unwrap();
        assert!(onnx.windows(7).any(|w| w == b"Sigmoid"));
    }

    #[test]
    fn same_padding_puts_the_extra_row_at_the_end() {
        let m = model(BuiltinOp::Logistic, None);
        let c = Converter {
            model: &m,
            name: "m".into(),
            graph: Graph::default(),
            constants: HashMap::new(),
            fresh: 0,
        };
        // 224 wide, 3x3 kernel, stride 2: output 112, total padding 1, all of it at the end.
        assert_eq!(
            c.pads(Padding::Same, &[1, 224, 224, 3], (3, 3), (2, 2))
                .unwrap(),
            [0, 0, 1, 1]
        );
        // Stride 1: 2 rows of padding, one each side.
        assert_eq!(
            c.pads(Padding::Same, &[1, 7, 7, 3], (3, 3), (1, 1))
                .unwrap(),
            [1, 1, 1, 1]
        );
        assert_eq!(
            c.pads(Padding::Valid, &[1, 7, 7, 3], (3, 3), (1, 1))
                .unwrap(),
            [0, 0, 0, 0]
        );
        assert!(c.pads(Padding::Same, &[1, 7, 3], (3, 3), (1, 1)).is_err());
    }
}
