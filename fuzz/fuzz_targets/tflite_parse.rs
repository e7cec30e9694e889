//! The TFLite reader and the ONNX converter on arbitrary bytes: an error or a result,
//! never a panic; every operator of a model that reads refers to existing tensors.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::tflite::{tflite_to_onnx, TfliteModel};

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = TfliteModel::parse(data) {
        for op in &model.operators {
            for &i in op.inputs.iter().chain(&op.outputs).filter(|&&i| i >= 0) {
                model.tensor(i).expect("operators refer to existing tensors");
            }
        }
        let _ = tflite_to_onnx(data, "fuzz.tflite");
    }
});
