//! A minimal ONNX model writer: the protobuf encoding of `ModelProto` with one graph of
//! nodes, float/int64 initializers, and inputs/outputs with static shapes. Enough for the
//! converter; field numbers are onnx.proto's.

use super::proto::{bytes_field, int_field, packed_ints, tag, FIXED32};

/// An attribute value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    /// A float (`f`).
    Float(f32),
    /// An integer (`i`).
    Int(i64),
    /// A string (`s`).
    Str(String),
    /// Integers (`ints`).
    Ints(Vec<i64>),
}

impl Attribute {
    fn encode(&self, name: &str, out: &mut Vec<u8>) {
        let mut a = Vec::new();
        bytes_field(1, name.as_bytes(), &mut a);
        match self {
            Attribute::Float(v) => {
                tag(2, FIXED32, &mut a);
                a.extend_from_slice(&v.to_le_bytes());
                int_field(20, 1, &mut a);
            }
            Attribute::Int(v) => {
                int_field(3, *v, &mut a);
                int_field(20, 2, &mut a);
            }
            Attribute::Str(v) => {
                bytes_field(4, v.as_bytes(), &mut a);
                int_field(20, 3, &mut a);
            }
            Attribute::Ints(v) => {
                packed_ints(8, v, &mut a);
                int_field(20, 7, &mut a);
            }
        }
        bytes_field(5, &a, out);
    }
}

/// A node: an operator of the default domain.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Operator type (`Conv`, `Add`, …).
    pub op: &'static str,
    /// Input value names (empty string: an omitted optional input).
    pub inputs: Vec<String>,
    /// Output value names.
    pub outputs: Vec<String>,
    /// Attributes by name.
    pub attributes: Vec<(&'static str, Attribute)>,
}

/// Constant data of an initializer.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// 32-bit floats.
    Float(Vec<f32>),
    /// 64-bit integers.
    Int64(Vec<i64>),
}

/// A named constant.
#[derive(Debug, Clone, PartialEq)]
pub struct Initializer {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub dims: Vec<i64>,
    /// Its values, row-major.
    pub data: Data,
}

/// A graph input or output: a float tensor of static shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub dims: Vec<i64>,
}

impl Value {
    fn encode(&self, number: u32, out: &mut Vec<u8>) {
        let mut shape = Vec::new();
        for &d in &self.dims {
            let mut dim = Vec::new();
            int_field(1, d, &mut dim);
            bytes_field(1, &dim, &mut shape);
        }
        let mut tensor = Vec::new();
        int_field(1, 1, &mut tensor); // elem_type FLOAT
        bytes_field(2, &shape, &mut tensor);
        let mut ty = Vec::new();
        bytes_field(1, &tensor, &mut ty);
        let mut v = Vec::new();
        bytes_field(1, self.name.as_bytes(), &mut v);
        bytes_field(2, &ty, &mut v);
        bytes_field(number, &v, out);
    }
}

/// A whole model: one graph at opset [`OPSET`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// Its name.
    pub name: String,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// Constants.
    pub initializers: Vec<Initializer>,
    /// Graph inputs.
    pub inputs: Vec<Value>,
    /// Graph outputs.
    pub outputs: Vec<Value>,
}

/// The ONNX opset the converter writes.
pub const OPSET: i64 = 17;

impl Graph {
    /// The serialized `ModelProto`.
    pub fn encode(&self) -> Vec<u8> {
        let mut graph = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let mut n = Vec::new();
            for input in &node.inputs {
                bytes_field(1, input.as_bytes(), &mut n);
            }
            for output in &node.outputs {
                bytes_field(2, output.as_bytes(), &mut n);
            }
            bytes_field(3, format!("{}_{i}", node.op).as_bytes(), &mut n);
            bytes_field(4, node.op.as_bytes(), &mut n);
            for (name, attribute) in &node.attributes {
                attribute.encode(name, &mut n);
            }
            bytes_field(1, &n, &mut graph);
        }
        bytes_field(2, self.name.as_bytes(), &mut graph);
        for init in &self.initializers {
            let mut t = Vec::new();
            packed_ints(1, &init.dims, &mut t);
            let raw: Vec<u8> = match &init.data {
                Data::Float(v) => {
                    int_field(2, 1, &mut t);
                    v.iter().flat_map(|x| x.to_le_bytes()).collect()
                }
                Data::Int64(v) => {
                    int_field(2, 7, &mut t);
                    v.iter().flat_map(|x| x.to_le_bytes()).collect()
                }
            };
            bytes_field(8, init.name.as_bytes(), &mut t);
            bytes_field(9, &raw, &mut t);
            bytes_field(5, &t, &mut graph);
        }
        for input in &self.inputs {
            input.encode(11, &mut graph);
        }
        for output in &self.outputs {
            output.encode(12, &mut graph);
        }
        let mut model = Vec::new();
        int_field(1, 8, &mut model); // ir_version
        bytes_field(2, b"livepose", &mut model); // producer_name
        bytes_field(7, &graph, &mut model);
        let mut opset = Vec::new();
        bytes_field(1, b"", &mut opset);
        int_field(2, OPSET, &mut opset);
        bytes_field(8, &opset, &mut model);
        model
    }
}
