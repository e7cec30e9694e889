//! Options objects as the front ends pass them (JSON here; Python's and Node's become the
//! same map): parsing never panics, and what parses is valid and parses again the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::inference::PipelineOptions;
use livepose_core::options::{parse_options, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(options) = PipelineOptions::from_json(text) {
        assert!(options.validate().is_ok());
        let again: PipelineOptions = parse_options(serde_json::to_value(&options).unwrap()).unwrap();
        assert_eq!(again, options);
    }
});
