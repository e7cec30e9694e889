//! The TFLite reader on arbitrary bytes: an error or a model, never a panic; every tensor
//! and operator of a model that reads is consistent with it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::tflite::TfliteModel;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = TfliteModel::parse(data) {
        for op in &model.operators {
            for &i in op.inputs.iter().chain(&op.outputs).filter(|&&i| i >= 0) {
                model.tensor(i).expect("operators refer to existing tensors");
            }
        }
    }
});
