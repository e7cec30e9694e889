//! ONNX graph pruning on arbitrary bytes: an error or a model, never a panic; pruning what
//! a pruned model still has again succeeds.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::onnx::prune_outputs;

fuzz_target!(|data: &[u8]| {
    let _ = prune_outputs(data, &[]);
    if let Ok(pruned) = prune_outputs(data, &["Identity_2"]) {
        prune_outputs(&pruned, &[]).expect("a pruned model parses");
    }
});
