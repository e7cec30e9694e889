//! JPEG / PNG / WebP decoding with a small pixel limit (so the fuzzer cannot exhaust memory
//! through legitimately huge images): errors are fine, panics are not.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::image::{DecoderConfig, ImageDecoder, RgbImage};

fuzz_target!(|data: &[u8]| {
    let mut decoder = ImageDecoder::new(DecoderConfig::default().max_pixels(1 << 20));
    let mut image = RgbImage::new();
    if decoder.decode(data, &mut image).is_ok() {
        assert_eq!(image.data().len(), image.width() as usize * image.height() as usize * 3);
    }
});
