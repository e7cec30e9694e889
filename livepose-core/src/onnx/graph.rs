//! Reading and pruning an ONNX model: drop graph outputs the pipeline never reads, and every
//! node and initializer that only they needed; read a model's float initializers.
//!
//! ONNX Runtime computes every node of a graph, whether or not its result is asked for. The
//! BlazePose landmark models carry a segmentation head (a 256x256 mask) that costs more
//! than half of the lite model's time and that livepose does not use (segmentation is off
//! by default in MediaPipe too): pruning it changes no other output by a single bit and
//! takes the lite model from about 14 ms to about 6 ms here.
//!
//! The edit works on the protobuf wire format directly (no ONNX schema crate): it reads the
//! top-level fields of `ModelProto`, the fields of its `GraphProto`, and of each node only
//! the input and output names, and copies every kept field byte for byte. Anything
//! malformed is a [`GraphError`], never a panic (there is a fuzz target).

use std::collections::HashSet;

use super::proto::{bytes_field, fields, name, read_varint, varint, LEN, VARINT};
use super::GraphError;

// Field numbers (onnx.proto).
const MODEL_GRAPH: u32 = 7;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;
const GRAPH_OUTPUT: u32 = 12;
const NODE_INPUT: u32 = 1;
const NODE_OUTPUT: u32 = 2;
const NODE_ATTRIBUTE: u32 = 5;
const ATTRIBUTE_GRAPH: u32 = 6;
const ATTRIBUTE_GRAPHS: u32 = 11;
const VALUE_INFO_NAME: u32 = 1;
const TENSOR_NAME: u32 = 8;
const TENSOR_DIMS: u32 = 1;
const TENSOR_DATA_TYPE: u32 = 2;
const TENSOR_FLOAT_DATA: u32 = 4;
const TENSOR_RAW_DATA: u32 = 9;
/// `TensorProto.DataType.FLOAT`.
const FLOAT: u64 = 1;

/// A float constant of a graph (an initializer).
#[derive(Debug, Clone, PartialEq)]
pub struct Initializer {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub dims: Vec<i64>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// The float initializers of `model` (a serialized `ModelProto`), from `raw_data` or
/// `float_data`; initializers of other types are left out.
pub fn float_initializers(model: &[u8]) -> Result<Vec<Initializer>, GraphError> {
    let Some(graph) = fields(model)?
        .into_iter()
        .find(|f| f.number == MODEL_GRAPH && f.wire == LEN)
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for tensor in fields(graph.payload)?
        .into_iter()
        .filter(|f| f.number == GRAPH_INITIALIZER && f.wire == LEN)
    {
        let (mut dims, mut data_type, mut values) = (Vec::new(), 0, Vec::new());
        for f in fields(tensor.payload)? {
            match (f.number, f.wire) {
                (TENSOR_DIMS, VARINT) => dims.push(varint(&f)? as i64),
                (TENSOR_DIMS, LEN) => {
                    let mut pos = 0;
                    while pos < f.payload.len() {
                        dims.push(read_varint(f.payload, &mut pos)? as i64);
                    }
                }
                (TENSOR_DATA_TYPE, VARINT) => data_type = varint(&f)?,
                (TENSOR_RAW_DATA | TENSOR_FLOAT_DATA, LEN) => values.extend(
                    f.payload
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                ),
                _ => {}
            }
        }
        if data_type == FLOAT {
            let name = String::from_utf8_lossy(name(tensor.payload, TENSOR_NAME)?).into_owned();
            out.push(Initializer { name, dims, values });
        }
    }
    Ok(out)
}

/// Returns `model` (a serialized `ModelProto`) without the graph outputs named in `drop` and
/// without the nodes and initializers that only they needed.
pub fn prune_outputs(model: &[u8], drop: &[&str]) -> Result<Vec<u8>, GraphError> {
    let top = fields(model)?;
    let graph = top
        .iter()
        .find(|f| f.number == MODEL_GRAPH && f.wire == LEN)
        .ok_or(GraphError::Malformed("no graph"))?;
    let pruned = prune_graph(graph.payload, drop)?;
    let mut out = Vec::with_capacity(model.len());
    for f in &top {
        if f.number == MODEL_GRAPH && f.wire == LEN {
            bytes_field(MODEL_GRAPH, &pruned, &mut out);
        } else {
            out.extend_from_slice(f.raw);
        }
    }
    Ok(out)
}

fn prune_graph(graph: &[u8], drop: &[&str]) -> Result<Vec<u8>, GraphError> {
    let all = fields(graph)?;
    let mut output_names = Vec::new();
    for f in all.iter().filter(|f| f.number == GRAPH_OUTPUT) {
        output_names.push(name(f.payload, VALUE_INFO_NAME)?);
    }
    for d in drop {
        if !output_names.contains(&d.as_bytes()) {
            return Err(GraphError::NoSuchOutput((*d).to_string()));
        }
    }
    let dropped = |n: &[u8]| drop.iter().any(|d| d.as_bytes() == n);
    let mut needed: HashSet<&[u8]> = output_names
        .iter()
        .copied()
        .filter(|n| !dropped(n))
        .collect();
    // Nodes are topologically sorted in a valid graph: walking them backwards, a node is
    // kept if something kept needs one of its outputs.
    let mut keep = vec![true; all.len()];
    for (i, f) in all.iter().enumerate().rev() {
        if f.number != GRAPH_NODE {
            continue;
        }
        let node = fields(f.payload)?;
        for attribute in node.iter().filter(|a| a.number == NODE_ATTRIBUTE) {
            if fields(attribute.payload)?
                .iter()
                .any(|a| a.number == ATTRIBUTE_GRAPH || a.number == ATTRIBUTE_GRAPHS)
            {
                return Err(GraphError::Subgraphs);
            }
        }
        let outputs = node.iter().filter(|n| n.number == NODE_OUTPUT);
        if outputs.clone().any(|o| needed.contains(o.payload)) {
            needed.extend(
                node.iter()
                    .filter(|n| n.number == NODE_INPUT && !n.payload.is_empty())
                    .map(|n| n.payload),
            );
        } else {
            keep[i] = false;
        }
    }
    let mut out = Vec::with_capacity(graph.len());
    for (f, kept) in all.iter().zip(keep) {
        let kept = match f.number {
            GRAPH_NODE => kept,
            GRAPH_OUTPUT => !dropped(name(f.payload, VALUE_INFO_NAME)?),
            GRAPH_INITIALIZER => needed.contains(name(f.payload, TENSOR_NAME)?),
            _ => true,
        };
        if kept {
            out.extend_from_slice(f.raw);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::proto::strings;
    use super::*;

    fn node(inputs: &[&str], outputs: &[&str], subgraph: bool) -> Vec<u8> {
        let mut n = Vec::new();
        for i in inputs {
            bytes_field(NODE_INPUT, i.as_bytes(), &mut n);
        }
        for o in outputs {
            bytes_field(NODE_OUTPUT, o.as_bytes(), &mut n);
        }
        bytes_field(4, b"Op", &mut n);
        if subgraph {
            let mut attribute = Vec::new();
            bytes_field(ATTRIBUTE_GRAPH, b"", &mut attribute);
            bytes_field(NODE_ATTRIBUTE, &attribute, &mut n);
        }
        n
    }

    fn named(number: u32, name: &str) -> Vec<u8> {
        let mut m = Vec::new();
        bytes_field(number, name.as_bytes(), &mut m);
        m
    }

    /// x -> A -> a; a -> B -> out1; a, w -> C -> c -> D -> out2.
    fn model(subgraph: bool) -> Vec<u8> {
        let mut g = Vec::new();
        bytes_field(GRAPH_NODE, &node(&["x"], &["a"], false), &mut g);
        bytes_field(GRAPH_NODE, &node(&["a"], &["out1"], false), &mut g);
        bytes_field(GRAPH_NODE, &node(&["a", "w"], &["c"], subgraph), &mut g);
        bytes_field(GRAPH_NODE, &node(&["c", ""], &["out2"], false), &mut g);
        bytes_field(GRAPH_INITIALIZER, &named(TENSOR_NAME, "w"), &mut g);
        bytes_field(11, &named(VALUE_INFO_NAME, "x"), &mut g);
        bytes_field(GRAPH_OUTPUT, &named(VALUE_INFO_NAME, "out1"), &mut g);
        bytes_field(GRAPH_OUTPUT, &named(VALUE_INFO_NAME, "out2"), &mut g);
        let mut m = Vec::new();
        m.extend_from_slice(&[0x08, 0x08]); // ir_version 8 (varint field 1)
        bytes_field(MODEL_GRAPH, &g, &mut m);
        bytes_field(8, b"opset", &mut m);
        m
    }

    fn graph_of(model: &[u8]) -> Vec<u8> {
        fields(model)
            .unwrap()
            .into_iter()
            .find(|f| f.number == MODEL_GRAPH)
            .unwrap()
            .payload
            .to_vec()
    }

    #[test]
    fn drops_the_output_and_what_only_it_needed() {
        let original = model(false);
        let pruned = prune_outputs(&original, &["out2"]).unwrap();
        let graph = graph_of(&pruned);
        let f = fields(&graph).unwrap();
        let nodes: Vec<_> = f.iter().filter(|f| f.number == GRAPH_NODE).collect();
        assert_eq!(nodes.len(), 2, "A and B stay, C and D go");
        assert_eq!(strings(nodes[1].payload, NODE_OUTPUT).unwrap(), [b"out1"]);
        assert!(
            !f.iter().any(|f| f.number == GRAPH_INITIALIZER),
            "w only fed C"
        );
        assert_eq!(f.iter().filter(|f| f.number == GRAPH_OUTPUT).count(), 1);
        // Fields outside the graph are copied unchanged, in order.
        let top = fields(&pruned).unwrap();
        assert_eq!(top[0].raw, [0x08, 0x08]);
        assert_eq!(top[2].payload, b"opset");
        // Dropping nothing is the identity.
        assert_eq!(prune_outputs(&original, &[]).unwrap(), original);
    }

    #[test]
    fn bad_input_is_an_error() {
        let original = model(false);
        assert_eq!(
            prune_outputs(&original, &["nope"]),
            Err(GraphError::NoSuchOutput("nope".into()))
        );
        assert_eq!(
            prune_outputs(&model(true), &["out2"]),
            Err(GraphError::Subgraphs)
        );
        for cut in [1, 3, original.len() / 2, original.len() - 1] {
            assert!(matches!(
                prune_outputs(&original[..cut], &["out2"]),
                Err(GraphError::Malformed(_))
            ));
        }
        assert!(prune_outputs(&[0xff; 12], &[]).is_err());
        assert!(prune_outputs(b"", &[]).is_err());
    }
}
