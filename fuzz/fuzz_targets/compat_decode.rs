//! JSON+base64 frames of existing clients.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::wire::compat;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut image = Vec::new();
        if let Ok(meta) = compat::decode_frame(text, &mut image) {
            assert_eq!(livepose_core::image::Codec::sniff(&image), Some(meta.codec));
        }
    }
});
