//! The parts of a TFLite model (tensorflow/lite/schema/schema.fbs) that MediaPipe's pose and
//! hand models use: the first subgraph's tensors and operators, constant buffers, sparsity
//! (the DENSIFY op's block-sparse weights) and the builtin options of the operators the
//! converter knows. Field indices follow the schema's field order.

use super::flatbuf::{Table, Vector};
use super::TfliteError;

/// A builtin operator, by its schema code; codes livepose does not know are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BuiltinOp {
    Add,
    AveragePool2d,
    Concatenation,
    Conv2d,
    DepthwiseConv2d,
    DepthToSpace,
    Dequantize,
    FullyConnected,
    Logistic,
    MaxPool2d,
    Mul,
    Relu,
    Relu6,
    Reshape,
    ResizeBilinear,
    Pad,
    Mean,
    Prelu,
    Densify,
    /// Any other builtin code.
    Other(i32),
}

impl BuiltinOp {
    /// The operator for a schema code.
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => BuiltinOp::Add,
            1 => BuiltinOp::AveragePool2d,
            2 => BuiltinOp::Concatenation,
            3 => BuiltinOp::Conv2d,
            4 => BuiltinOp::DepthwiseConv2d,
            5 => BuiltinOp::DepthToSpace,
            6 => BuiltinOp::Dequantize,
            9 => BuiltinOp::FullyConnected,
            14 => BuiltinOp::Logistic,
            17 => BuiltinOp::MaxPool2d,
            18 => BuiltinOp::Mul,
            19 => BuiltinOp::Relu,
            21 => BuiltinOp::Relu6,
            22 => BuiltinOp::Reshape,
            23 => BuiltinOp::ResizeBilinear,
            34 => BuiltinOp::Pad,
            40 => BuiltinOp::Mean,
            54 => BuiltinOp::Prelu,
            124 => BuiltinOp::Densify,
            other => BuiltinOp::Other(other),
        }
    }
}

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TensorType {
    Float32,
    Float16,
    Int32,
    Uint8,
    Int64,
    Int8,
    /// Any other schema code.
    Other(i8),
}

impl TensorType {
    fn from_code(code: i8) -> Self {
        match code {
            0 => TensorType::Float32,
            1 => TensorType::Float16,
            2 => TensorType::Int32,
            3 => TensorType::Uint8,
            4 => TensorType::Int64,
            9 => TensorType::Int8,
            other => TensorType::Other(other),
        }
    }

    /// Bytes per element, for the types with a fixed size.
    pub fn size(self) -> Option<usize> {
        match self {
            TensorType::Float32 | TensorType::Int32 => Some(4),
            TensorType::Float16 => Some(2),
            TensorType::Uint8 | TensorType::Int8 => Some(1),
            TensorType::Int64 => Some(8),
            TensorType::Other(_) => None,
        }
    }
}

/// How one dimension of a sparse tensor is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimensionFormat {
    /// Every index from 0 to `size - 1`.
    Dense {
        /// The dimension's size.
        size: usize,
    },
    /// Compressed sparse row: for each position of the enclosing dimensions, the stored
    /// indices of this one are `indices[segments[p]..segments[p + 1]]`.
    SparseCsr {
        /// Segment boundaries.
        segments: Vec<usize>,
        /// Stored indices.
        indices: Vec<usize>,
    },
}

/// The sparsity of a constant tensor (TFLite's `SparsityParameters`): the order in which
/// the dimensions (tensor dimensions, then block dimensions) are traversed, which tensor
/// dimension each block dimension subdivides, and how each traversed dimension is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sparsity {
    /// Traversal order of the dimensions.
    pub traversal_order: Vec<usize>,
    /// For each block dimension, the tensor dimension it blocks.
    pub block_map: Vec<usize>,
    /// Storage of each traversed dimension.
    pub dim_metadata: Vec<DimensionFormat>,
}

/// A tensor of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor<'a> {
    /// Its name in the model.
    pub name: String,
    /// Its shape (TFLite's layout: NHWC for images, OHWI for convolution weights).
    pub shape: Vec<i32>,
    /// Element type.
    pub dtype: TensorType,
    /// Constant contents, little-endian (`None` for activations).
    pub data: Option<&'a [u8]>,
    /// Present when `data` is stored sparse.
    pub sparsity: Option<Sparsity>,
}

/// Padding of convolutions and pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(input / stride)`, zeros added evenly (the extra one at the end).
    Same,
    /// No padding.
    Valid,
}

/// An activation fused into an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Activation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
    Tanh,
    /// Any other schema code.
    Other(i8),
}

impl Activation {
    fn from_code(code: i8) -> Self {
        match code {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::ReluN1To1,
            3 => Activation::Relu6,
            4 => Activation::Tanh,
            other => Activation::Other(other),
        }
    }
}

/// The builtin options of an operator, for the operators the converter knows.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Options {
    None,
    Conv2d {
        padding: Padding,
        stride: (i32, i32),
        dilation: (i32, i32),
        activation: Activation,
    },
    DepthwiseConv2d {
        padding: Padding,
        stride: (i32, i32),
        dilation: (i32, i32),
        depth_multiplier: i32,
        activation: Activation,
    },
    Pool2d {
        padding: Padding,
        stride: (i32, i32),
        filter: (i32, i32),
        activation: Activation,
    },
    /// ADD and MUL.
    Elementwise {
        activation: Activation,
    },
    Concatenation {
        axis: i32,
        activation: Activation,
    },
    Reshape {
        new_shape: Option<Vec<i32>>,
    },
    ResizeBilinear {
        align_corners: bool,
        half_pixel_centers: bool,
    },
    FullyConnected {
        activation: Activation,
        keep_num_dims: bool,
    },
    Mean {
        keep_dims: bool,
    },
    DepthToSpace {
        block_size: i32,
    },
}

/// One operator: what it is, its input and output tensor indices (-1: an omitted optional
/// input), and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// The builtin operator (`Other` for custom operators too).
    pub op: BuiltinOp,
    /// The custom operator's name, for custom operators.
    pub custom: Option<String>,
    /// Input tensor indices.
    pub inputs: Vec<i32>,
    /// Output tensor indices.
    pub outputs: Vec<i32>,
    /// Builtin options.
    pub options: Options,
}

/// A TFLite model's first subgraph, borrowing constant data from the file's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct TfliteModel<'a> {
    /// Schema version.
    pub version: u32,
    /// The tensors.
    pub tensors: Vec<Tensor<'a>>,
    /// Indices of the graph's input tensors.
    pub inputs: Vec<i32>,
    /// Indices of the graph's output tensors.
    pub outputs: Vec<i32>,
    /// The operators in execution order.
    pub operators: Vec<Operator>,
}

fn malformed(what: impl Into<String>) -> TfliteError {
    TfliteError::Malformed(what.into())
}

fn ints(v: Option<Vector<'_>>) -> Result<Vec<i32>, TfliteError> {
    v.map_or(Ok(Vec::new()), |v| v.scalars::<i32>())
}

fn padding(code: i8) -> Padding {
    if code == 1 {
        Padding::Valid
    } else {
        Padding::Same
    }
}

impl<'a> TfliteModel<'a> {
    /// Reads a `.tflite` file's bytes (its first subgraph).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TfliteError> {
        if bytes.get(4..8) != Some(b"TFL3".as_slice()) {
            return Err(malformed(
                "not a TFLite file (no \"TFL3\" identifier at byte 4)",
            ));
        }
        let root = Table::root(bytes)?;
        let version = root.scalar::<u32>(0, 0)?;
        let codes = root
            .vector(1)?
            .ok_or_else(|| malformed("no operator codes"))?;
        let opcodes = codes
            .tables()
            .map(|t| {
                let t = t?;
                let deprecated = i32::from(t.scalar::<i8>(0, 0)?);
                let builtin = t.scalar::<i32>(3, 0)?;
                Ok((BuiltinOp::from_code(builtin.max(deprecated)), t.string(1)?))
            })
            .collect::<Result<Vec<_>, TfliteError>>()?;
        let buffers = root.vector(4)?.ok_or_else(|| malformed("no buffers"))?;
        let subgraphs = root.vector(2)?.ok_or_else(|| malformed("no subgraphs"))?;
        if subgraphs.is_empty() {
            return Err(malformed("no subgraphs"));
        }
        let graph = subgraphs.table(0)?;
        let tensors = graph
            .vector(0)?
            .ok_or_else(|| malformed("no tensors"))?
            .tables()
            .map(|t| tensor(t?, &buffers, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let operators = graph
            .vector(3)?
            .map(|ops| {
                ops.tables()
                    .map(|t| operator(t?, &opcodes, tensors.len()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let model = TfliteModel {
            version,
            inputs: ints(graph.vector(1)?)?,
            outputs: ints(graph.vector(2)?)?,
            tensors,
            operators,
        };
        for &i in model.inputs.iter().chain(&model.outputs) {
            model.tensor(i)?;
        }
        Ok(model)
    }

    /// Tensor `index`, or an error naming it when it does not exist.
    pub fn tensor(&self, index: i32) -> Result<&Tensor<'a>, TfliteError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.tensors.get(i))
            .ok_or_else(|| {
                malformed(format!(
                    "tensor index {index} (the model has {})",
                    self.tensors.len()
                ))
            })
    }
}

fn tensor<'a>(
    t: Table<'a>,
    buffers: &Vector<'a>,
    file: &'a [u8],
) -> Result<Tensor<'a>, TfliteError> {
    let name = t.string(3)?.unwrap_or_default();
    let buffer = t.scalar::<u32>(2, 0)? as usize;
    let data = if buffer == 0 {
        None
    } else {
        if buffer >= buffers.len() {
            return Err(malformed(format!(
                "tensor {name:?} uses buffer {buffer} of {}",
                buffers.len()
            )));
        }
        let b = buffers.table(buffer)?;
        match b.vector(0)? {
            Some(v) if !v.is_empty() => Some(v.bytes(1)?),
            _ => {
                // Large models keep data after the FlatBuffer: offset and size in the file.
                let (offset, size) = (b.scalar::<u64>(1, 0)?, b.scalar::<u64>(2, 0)?);
                if offset > 1 {
                    let range = usize::try_from(offset).ok().zip(usize::try_from(size).ok());
                    Some(
                        range
                            .and_then(|(o, s)| file.get(o..o.checked_add(s)?))
                            .ok_or_else(|| {
                                malformed(format!("buffer {buffer} lies outside the file"))
                            })?,
                    )
                } else {
                    None
                }
            }
        }
    };
    Ok(Tensor {
        shape: ints(t.vector(0)?)?,
        dtype: TensorType::from_code(t.scalar::<i8>(1, 0)?),
        data,
        sparsity: t.table(6)?.map(sparsity).transpose()?,
        name,
    })
}

fn indices(dim: &Table<'_>, index: usize) -> Result<Vec<usize>, TfliteError> {
    // A SparseIndexVector union: type at `index`, value (a table whose field 0 is the
    // vector) at `index + 1`; Int32Vector = 1, Uint16Vector = 2, Uint8Vector = 3.
    let kind = dim.scalar::<u8>(index, 0)?;
    let values = dim
        .table(index + 1)?
        .ok_or_else(|| malformed("sparse dimension without its index vector"))?
        .vector(0)?
        .ok_or_else(|| malformed("sparse index vector without values"))?;
    Ok(match kind {
        1 => values
            .scalars::<i32>()?
            .into_iter()
            .map(|v| usize::try_from(v).map_err(|_| malformed("negative sparse index")))
            .collect::<Result<_, _>>()?,
        2 => values
            .scalars::<u16>()?
            .into_iter()
            .map(usize::from)
            .collect(),
        3 => values
            .scalars::<u8>()?
            .into_iter()
            .map(usize::from)
            .collect(),
        other => return Err(malformed(format!("sparse index vector type {other}"))),
    })
}

fn sparsity(t: Table<'_>) -> Result<Sparsity, TfliteError> {
    let to_usize = |v: Vec<i32>| -> Result<Vec<usize>, TfliteError> {
        v.into_iter()
            .map(|x| usize::try_from(x).map_err(|_| malformed("negative sparsity index")))
            .collect()
    };
    let dim_metadata = t
        .vector(2)?
        .ok_or_else(|| malformed("sparsity without dimension metadata"))?
        .tables()
        .map(|d| {
            let d = d?;
            match d.scalar::<i8>(0, 0)? {
                0 => Ok(DimensionFormat::Dense {
                    size: usize::try_from(d.scalar::<i32>(1, 0)?)
                        .map_err(|_| malformed("negative dense size"))?,
                }),
                1 => Ok(DimensionFormat::SparseCsr {
                    segments: indices(&d, 2)?,
                    indices: indices(&d, 4)?,
                }),
                other => Err(malformed(format!("dimension format {other}"))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Sparsity {
        traversal_order: to_usize(ints(t.vector(0)?)?)?,
        block_map: to_usize(ints(t.vector(1)?)?)?,
        dim_metadata,
    })
}

fn operator(
    t: Table<'_>,
    opcodes: &[(BuiltinOp, Option<String>)],
    tensor_count: usize,
) -> Result<Operator, TfliteError> {
    let index = t.scalar::<u32>(0, 0)? as usize;
    let (op, custom) = opcodes
        .get(index)
        .cloned()
        .ok_or_else(|| malformed(format!("operator code {index} of {}", opcodes.len())))?;
    let inputs = ints(t.vector(1)?)?;
    let outputs = ints(t.vector(2)?)?;
    for &i in inputs.iter().chain(&outputs) {
        if i < -1 || i >= tensor_count as i32 {
            return Err(malformed(format!(
                "{op:?} refers to tensor {i} of {tensor_count}"
            )));
        }
    }
    let options = match t.table(4)? {
        Some(o) => options(op, &o)?,
        None => Options::None,
    };
    Ok(Operator {
        op,
        custom,
        inputs,
        outputs,
        options,
    })
}

fn options(op: BuiltinOp, o: &Table<'_>) -> Result<Options, TfliteError> {
    let act = |i| o.scalar::<i8>(i, 0).map(Activation::from_code);
    Ok(match op {
        BuiltinOp::Conv2d => Options::Conv2d {
            padding: padding(o.scalar(0, 0)?),
            stride: (o.scalar(1, 1)?, o.scalar(2, 1)?),
            activation: act(3)?,
            dilation: (o.scalar(4, 1)?, o.scalar(5, 1)?),
        },
        BuiltinOp::DepthwiseConv2d => Options::DepthwiseConv2d {
            padding: padding(o.scalar(0, 0)?),
            stride: (o.scalar(1, 1)?, o.scalar(2, 1)?),
            depth_multiplier: o.scalar(3, 1)?,
            activation: act(4)?,
            dilation: (o.scalar(5, 1)?, o.scalar(6, 1)?),
        },
        BuiltinOp::AveragePool2d | BuiltinOp::MaxPool2d => Options::Pool2d {
            padding: padding(o.scalar(0, 0)?),
            stride: (o.scalar(1, 1)?, o.scalar(2, 1)?),
            filter: (o.scalar(3, 1)?, o.scalar(4, 1)?),
            activation: act(5)?,
        },
        BuiltinOp::Add | BuiltinOp::Mul => Options::Elementwise {
            activation: act(0)?,
        },
        BuiltinOp::Concatenation => Options::Concatenation {
            axis: o.scalar(0, 0)?,
            activation: act(1)?,
        },
        BuiltinOp::Reshape => Options::Reshape {
            new_shape: o.vector(0)?.map(|v| v.scalars::<i32>()).transpose()?,
        },
        BuiltinOp::ResizeBilinear => Options::ResizeBilinear {
            align_corners: o.scalar::<u8>(2, 0)? != 0,
            half_pixel_centers: o.scalar::<u8>(3, 0)? != 0,
        },
        BuiltinOp::FullyConnected => Options::FullyConnected {
            activation: act(0)?,
            keep_num_dims: o.scalar::<u8>(2, 0)? != 0,
        },
        BuiltinOp::Mean => Options::Mean {
            keep_dims: o.scalar::<u8>(0, 0)? != 0,
        },
        BuiltinOp::DepthToSpace => Options::DepthToSpace {
            block_size: o.scalar(0, 1)?,
        },
        _ => Options::None,
    })
}
