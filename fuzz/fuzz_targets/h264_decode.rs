//! The OpenH264 decoder behind livepose's checks: an Annex B byte stream (seeded with real
//! streams from libx264 and OpenH264's encoder) cut into access units and decoded in order,
//! with a small pixel limit. Errors are fine; a crash, a hang or a leak is not, and the
//! decoder always takes a clean keyframe after whatever came before.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::image::RgbImage;
use livepose_core::video::{AccessUnitSplitter, EncoderSettings, H264Decoder, H264Encoder};

thread_local! {
    static KEYFRAME: Vec<u8> = {
        let image = RgbImage::from_rgb8(32, 32, vec![90; 32 * 32 * 3]).unwrap();
        let mut encoder = H264Encoder::new(EncoderSettings::default()).unwrap();
        let mut au = Vec::new();
        encoder.encode(image.view(), 0, &mut au).unwrap();
        au
    };
}

fuzz_target!(|data: &[u8]| {
    let mut split = AccessUnitSplitter::new(1 << 16);
    split.push(data);
    let mut decoder = H264Decoder::new(1 << 18).unwrap();
    let mut rgb = RgbImage::new();
    let mut units = 0;
    while let Some(au) = split.next_access_unit().or_else(|| split.finish()) {
        if decoder.decode_rgb(&au, &mut rgb).unwrap_or(false) {
            assert_eq!(rgb.data().len(), rgb.width() as usize * rgb.height() as usize * 3);
            assert!(u64::from(rgb.width()) * u64::from(rgb.height()) <= 1 << 18);
        }
        units += 1;
        if units > 64 {
            break;
        }
    }
    KEYFRAME.with(|key| assert!(decoder.decode_rgb(key, &mut rgb).unwrap()));
});
