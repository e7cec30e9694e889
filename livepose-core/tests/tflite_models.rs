//! The TFLite reader on MediaPipe's own model files (the `.tflite` files of the models
//! folder, `scripts/fetch-models.sh`): each reads whole, with the inputs and outputs the
//! models have, constant data of the size its shape says, and only operators the converter
//! handles; the detectors' sparse fp16 weights densify to what the TFLite interpreter's
//! DENSIFY computes; cut or corrupted files give errors, never panics.

use std::collections::BTreeSet;

use livepose_core::tflite::{
    values_f32, BuiltinOp, DimensionFormat, TensorType, TfliteError, TfliteModel,
};
use livepose_test_support::{data, oracle};

/// (file, input shape, number of outputs) as MediaPipe's model cards list them.
const MODELS: [(&str, [i32; 4], usize); 8] = [
    ("pose_detection.tflite", [1, 224, 224, 3], 2),
    ("pose_landmark_lite.tflite", [1, 256, 256, 3], 5),
    ("pose_landmark_full.tflite", [1, 256, 256, 3], 5),
    ("pose_landmark_heavy.tflite", [1, 256, 256, 3], 5),
    ("palm_detection_lite.tflite", [1, 192, 192, 3], 2),
    ("palm_detection_full.tflite", [1, 192, 192, 3], 2),
    ("hand_landmark_lite.tflite", [1, 224, 224, 3], 4),
    ("hand_landmark_full.tflite", [1, 224, 224, 3], 4),
];

/// The models a `LIVEPOSE_SHARED` folder has: these must be there, the others are read
/// when the models folder has them (the fetched one has all eight).
const REQUIRED: [&str; 5] = [
    "pose_detection.tflite",
    "pose_landmark_lite.tflite",
    "pose_landmark_full.tflite",
    "palm_detection_lite.tflite",
    "hand_landmark_lite.tflite",
];

/// What the issue lists for the converter.
const SUPPORTED: [BuiltinOp; 19] = [
    BuiltinOp::Conv2d,
    BuiltinOp::DepthwiseConv2d,
    BuiltinOp::FullyConnected,
    BuiltinOp::Add,
    BuiltinOp::Mul,
    BuiltinOp::Pad,
    BuiltinOp::MaxPool2d,
    BuiltinOp::AveragePool2d,
    BuiltinOp::Mean,
    BuiltinOp::Reshape,
    BuiltinOp::Concatenation,
    BuiltinOp::ResizeBilinear,
    BuiltinOp::DepthToSpace,
    BuiltinOp::Logistic,
    BuiltinOp::Relu,
    BuiltinOp::Relu6,
    BuiltinOp::Prelu,
    BuiltinOp::Dequantize,
    BuiltinOp::Densify,
];

fn read(name: &str) -> Vec<u8> {
    let path = data::tflite(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_model_reads_whole() {
    for (name, input, outputs) in MODELS {
        if !REQUIRED.contains(&name) && !data::has_tflite(name) {
            continue;
        }
        let bytes = read(name);
        let model = TfliteModel::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.inputs.len(), 1, "{name}");
        let tensor = model.tensor(model.inputs[0]).unwrap();
        assert_eq!(tensor.shape, input, "{name}");
        assert_eq!(tensor.dtype, TensorType::Float32, "{name}");
        assert_eq!(model.outputs.len(), outputs, "{name}");
        let ops: BTreeSet<String> = model
            .operators
            .iter()
            .map(|o| format!("{:?}", o.op))
            .collect();
        for op in &model.operators {
            assert!(
                SUPPORTED.contains(&op.op),
                "{name}: {:?} is not supported",
                op.op
            );
        }
        // Constant data is as long as its shape says, unless stored sparse.
        for t in model
            .tensors
            .iter()
            .filter(|t| t.data.is_some() && t.sparsity.is_none())
        {
            let count: i64 = t.shape.iter().map(|&d| i64::from(d)).product();
            let size = t.dtype.size().unwrap() as i64;
            assert_eq!(
                t.data.unwrap().len() as i64,
                count * size,
                "{name}: {}",
                t.name
            );
        }
        eprintln!(
            "{name}: {} operators, {} tensors, ops {ops:?}",
            model.operators.len(),
            model.tensors.len()
        );
    }
}

#[test]
fn the_detectors_carry_sparse_and_fp16_weights() {
    // MediaPipe ships the detectors with block-sparse fp16 weights: DENSIFY then DEQUANTIZE.
    for name in ["pose_detection.tflite", "palm_detection_lite.tflite"] {
        let bytes = read(name);
        let model = TfliteModel::parse(&bytes).unwrap();
        let sparse: Vec<_> = model
            .tensors
            .iter()
            .filter(|t| t.sparsity.is_some())
            .collect();
        if name == "pose_detection.tflite" {
            assert!(!sparse.is_empty(), "{name}: no sparse tensor");
            assert!(model.operators.iter().any(|o| o.op == BuiltinOp::Densify));
        }
        assert!(
            model
                .operators
                .iter()
                .any(|o| o.op == BuiltinOp::Dequantize),
            "{name}"
        );
        for t in sparse {
            let s = t.sparsity.as_ref().unwrap();
            assert_eq!(t.dtype, TensorType::Float16, "{}", t.name);
            assert_eq!(s.dim_metadata.len(), s.traversal_order.len(), "{}", t.name);
            // Values stored: dense dimensions multiply, a CSR dimension replaces the count
            // with its number of stored indices (its segments cover every parent position).
            let mut stored = 1usize;
            for d in &s.dim_metadata {
                match d {
                    DimensionFormat::Dense { size } => stored *= size,
                    DimensionFormat::SparseCsr { segments, indices } => {
                        assert_eq!(segments.len(), stored + 1, "{}", t.name);
                        assert_eq!(*segments.last().unwrap(), indices.len(), "{}", t.name);
                        stored = indices.len();
                    }
                }
            }
            assert_eq!(t.data.unwrap().len(), 2 * stored, "{}", t.name);
        }
    }
}

#[test]
fn cut_and_corrupted_files_are_errors_not_panics() {
    let bytes = read("hand_landmark_lite.tflite");
    for len in (0..bytes.len())
        .step_by(bytes.len() / 500)
        .chain([0, 3, 7, 8, 64])
    {
        let _ = TfliteModel::parse(&bytes[..len]);
    }
    assert!(matches!(
        TfliteModel::parse(&bytes[..1000]),
        Err(TfliteError::Malformed(_))
    ));
    assert!(matches!(
        TfliteModel::parse(b"not a model at all"),
        Err(TfliteError::Malformed(_))
    ));
    // Flip bytes through the FlatBuffer's tables (the start of the file) one at a time.
    let mut corrupt = bytes[..bytes.len().min(1 << 20)].to_vec();
    let mut state = 0x2545_f491_u32;
    for _ in 0..2000 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let at = state as usize % 4096.min(corrupt.len());
        let old = corrupt[at];
        corrupt[at] = (state >> 24) as u8;
        let _ = TfliteModel::parse(&corrupt);
        corrupt[at] = old;
    }
}

#[test]
fn densified_fp16_weights_are_what_the_tflite_interpreter_densifies() {
    // Every sparse fp16 tensor of the detectors, densified and widened by the reader, equals
    // value for value (row-major in TFLite's OHWI) the output of the DENSIFY operator that
    // reads it in the TFLite interpreter itself.
    let mut checked = 0;
    for name in ["pose_detection.tflite", "palm_detection_lite.tflite"] {
        let path = data::tflite(name);
        let expected = oracle::load(&path);
        let bytes = std::fs::read(&path).unwrap();
        let model = TfliteModel::parse(&bytes).unwrap();
        for (index, t) in model.tensors.iter().enumerate() {
            let densified = expected.get(&format!("densify_{index}"));
            if t.sparsity.is_none() {
                assert!(densified.is_none(), "{name}: {} is not sparse", t.name);
                continue;
            }
            let densified = densified
                .unwrap_or_else(|| panic!("{name}: no DENSIFY of {} in the oracle", t.name));
            let ours = values_f32(t).unwrap();
            let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
            assert_eq!(densified.shape, shape, "{name}: {}", t.name);
            let zeros = ours.iter().filter(|v| **v == 0.0).count();
            assert!(zeros > 0 && zeros < ours.len(), "{}: {zeros} zeros", t.name);
            assert!(
                ours.iter()
                    .zip(&densified.values)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name}: {} densifies to other values than TFLite's DENSIFY",
                t.name
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
    eprintln!("{checked} sparse fp16 tensors densify exactly as the TFLite interpreter does");
}
