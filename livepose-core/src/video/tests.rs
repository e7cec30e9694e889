//! The decoder and the encoder together: round trips with their PSNR, keyframes, and the
//! inputs a server must survive (a P-frame first, truncated NAL units, random bytes, a
//! change of size, an SPS over the limit).

use proptest::prelude::*;

use super::sps::tests::{sps_nal, SpsSpec};
use super::*;
use crate::image::RgbImage;

/// A synthetic camera: a vertical gradient, a textured band, and a bright disc that moves
/// with `t` (smooth content that a video codec compresses as it would a real scene).
pub(crate) fn scene(width: u32, height: u32, t: u32) -> RgbImage {
    let mut data = Vec::with_capacity((width * height * 3) as usize);
    let (cx, cy) = (
        (width as f32) * (0.3 + 0.02 * t as f32 % 0.5),
        height as f32 * 0.5,
    );
    let r = width.min(height) as f32 * 0.2;
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f32, y as f32);
            let inside = (fx - cx).powi(2) + (fy - cy).powi(2) < r * r;
            let band = ((fx * 0.2).sin() * (fy * 0.15).cos() * 40.0) as i32;
            let base = (255 * y / height.max(1)) as i32;
            let px = if inside {
                [230, 200, 60]
            } else {
                [
                    (base + band).clamp(0, 255) as u8,
                    (128 + band).clamp(0, 255) as u8,
                    (255 - base).clamp(0, 255) as u8,
                ]
            };
            data.extend_from_slice(&px);
        }
    }
    RgbImage::from_rgb8(width, height, data).unwrap()
}

/// Peak signal-to-noise ratio of `b` against `a` over all RGB samples, dB.
pub(crate) fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    let mse = a
        .data()
        .iter()
        .zip(b.data())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.data().len() as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10()
}

/// `n` access units of the scene at `width` x `height`, and whether each is a keyframe.
fn encode_clip(width: u32, height: u32, n: u32, settings: EncoderSettings) -> Vec<(Vec<u8>, bool)> {
    let mut encoder = H264Encoder::new(settings).unwrap();
    (0..n)
        .map(|t| {
            let mut au = Vec::new();
            let key = encoder
                .encode(scene(width, height, t).view(), u64::from(t) * 33, &mut au)
                .unwrap();
            (au, key)
        })
        .collect()
}

const MAX_PIXELS: u64 = 16 << 20;

#[test]
fn encode_then_decode_keeps_the_picture() {
    let clip = encode_clip(320, 240, 30, EncoderSettings::default());
    let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
    let mut rgb = RgbImage::new();
    for (t, (au, key)) in clip.iter().enumerate() {
        assert_eq!(*key, t == 0, "frame {t}: only the first is a keyframe");
        let info = scan_access_unit(au).unwrap();
        assert_eq!(info.keyframe, *key);
        if *key {
            assert!(
                info.sps.is_some() && info.has_pps,
                "a keyframe carries SPS and PPS"
            );
        }
        assert!(
            decoder.decode_rgb(au, &mut rgb).unwrap(),
            "frame {t} gives a picture"
        );
        let quality = psnr(&scene(320, 240, t as u32), &rgb);
        assert!(quality > 30.0, "frame {t}: PSNR {quality:.1} dB");
    }
    assert_eq!(decoder.size(), Some((320, 240)));
}

#[test]
fn keyframes_come_on_request_and_at_the_interval() {
    let settings = EncoderSettings {
        keyframe_interval: 10,
        ..EncoderSettings::default()
    };
    let mut encoder = H264Encoder::new(settings).unwrap();
    let mut au = Vec::new();
    let mut keys = Vec::new();
    for t in 0..25u32 {
        if t == 4 {
            encoder.request_keyframe();
        }
        if encoder
            .encode(scene(64, 48, t).view(), u64::from(t) * 33, &mut au)
            .unwrap()
        {
            keys.push(t);
            let info = scan_access_unit(&au).unwrap();
            assert!(
                info.keyframe && info.sps.is_some() && info.has_pps,
                "frame {t}"
            );
        }
    }
    assert!(keys.starts_with(&[0, 4]), "keyframes at {keys:?}");
    assert!(keys.len() >= 3, "keyframes at {keys:?}");
}

#[test]
fn a_p_frame_first_needs_a_keyframe_then_the_stream_decodes() {
    let clip = encode_clip(128, 96, 3, EncoderSettings::default());
    let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
    assert!(decoder.awaiting_keyframe());
    let err = decoder.decode(&clip[1].0).err().unwrap();
    assert_eq!(err.code(), "need_keyframe");
    assert!(err.to_string().contains("no keyframe yet"), "{err}");
    for (au, _) in &clip {
        assert!(decoder.decode(au).unwrap().is_some());
    }
    assert!(!decoder.awaiting_keyframe());
    // A caller that dropped access units must resume at a keyframe.
    decoder.skip_to_keyframe();
    assert_eq!(
        decoder.decode(&clip[2].0).err().unwrap().code(),
        "need_keyframe"
    );
    assert!(decoder.decode(&clip[0].0).unwrap().is_some());
}

#[test]
fn truncated_access_units_are_errors_and_the_stream_survives() {
    let clip = encode_clip(160, 120, 2, EncoderSettings::default());
    let (key, delta) = (&clip[0].0, &clip[1].0);
    let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
    let mut rgb = RgbImage::new();
    let mut errors = 0;
    let step = (key.len() / 40).max(1);
    for len in (0..key.len()).step_by(step) {
        // A cut at a NAL boundary or in the last slice's padding can still decode.
        if let Err(e) = decoder.decode(&key[..len]) {
            errors += 1;
            assert!(["bad_video", "need_keyframe"].contains(&e.code()), "{e}");
            // After an error, a delta frame is refused until a keyframe.
            assert_eq!(decoder.decode(delta).err().unwrap().code(), "need_keyframe");
        }
        assert!(
            decoder.decode_rgb(key, &mut rgb).unwrap(),
            "whole keyframe after {len} bytes"
        );
        assert!(decoder.decode_rgb(delta, &mut rgb).unwrap());
    }
    assert!(errors > 0, "no truncation was refused");
}

#[test]
fn the_resolution_changes_at_a_keyframe_with_a_new_sps() {
    let mut encoder = H264Encoder::new(EncoderSettings::default()).unwrap();
    let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
    let mut rgb = RgbImage::new();
    let mut au = Vec::new();
    for (t, (w, h)) in [(320, 240), (320, 240), (160, 120), (160, 120), (640, 360)]
        .into_iter()
        .enumerate()
    {
        let key = encoder
            .encode(scene(w, h, t as u32).view(), t as u64 * 33, &mut au)
            .unwrap();
        assert_eq!(key, t == 0 || t == 2 || t == 4, "frame {t}");
        assert!(decoder.decode_rgb(&au, &mut rgb).unwrap());
        assert_eq!((rgb.width(), rgb.height()), (w, h), "frame {t}");
        assert!(psnr(&scene(w, h, t as u32), &rgb) > 30.0);
    }
}

#[test]
fn an_sps_over_the_limit_is_refused_before_decoding() {
    // 16384 x 16384 declared, then a PPS and the start of an IDR slice.
    let mut au = Vec::new();
    let sps = sps_nal(SpsSpec::new(1024, 1024));
    write_annexb(
        [
            &sps[..],
            &[0x68, 0xce, 0x3c, 0x80],
            &[0x65, 0x88, 0x84, 0x00, 0x21],
        ],
        &mut au,
    );
    let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
    let err = decoder.decode(&au).err().unwrap();
    assert_eq!(
        err,
        VideoError::TooLarge {
            width: 16384,
            height: 16384,
            max_pixels: MAX_PIXELS
        }
    );
    // The same decoder then takes a real stream.
    let clip = encode_clip(64, 48, 2, EncoderSettings::default());
    assert_eq!(
        decoder.decode(&clip[1].0).err().unwrap().code(),
        "need_keyframe"
    );
    assert!(decoder.decode(&clip[0].0).unwrap().is_some());
    // A limit below the stream's own size refuses it too.
    let mut small = H264Decoder::new(64 * 48 - 1).unwrap();
    assert_eq!(
        small.decode(&clip[0].0).err().unwrap().code(),
        "image_too_large"
    );
}

#[test]
fn the_first_keyframe_must_bring_its_parameter_sets() {
    let clip = encode_clip(64, 48, 1, EncoderSettings::default());
    let idr_only: Vec<u8> = {
        let mut out = Vec::new();
        let units = nal_units(&clip[0].0).filter(|u| u.nal_type() == Some(NalType::IDR));
        write_annexb(units.map(|u| u.bytes), &mut out);
        out
    };
    let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
    let err = decoder.decode(&idr_only).err().unwrap();
    assert!(err.to_string().contains("SPS and PPS"), "{err}");
    assert!(decoder.decode(&clip[0].0).unwrap().is_some());
}

#[test]
fn a_corrupted_slice_is_an_error_not_a_panic() {
    let clip = encode_clip(160, 120, 4, EncoderSettings::default());
    let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
    let mut refused = 0;
    for flip in 0..64usize {
        let mut key = clip[0].0.clone();
        // Flip bits inside the slice data (past the parameter sets).
        let at = key.len() / 2 + flip * 7 % (key.len() / 2);
        key[at] ^= 0x5a;
        if decoder.decode(&key).is_err() {
            refused += 1;
        }
        assert!(decoder.decode(&clip[0].0).unwrap().is_some(), "flip {flip}");
    }
    // Many flips decode to a damaged picture without the decoder noticing; some are seen.
    println!("{refused} of 64 corrupted keyframes refused");
}

#[test]
fn decoders_free_their_state_when_dropped() {
    fn resident_kb() -> Option<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4)
    }
    let clip = encode_clip(640, 480, 2, EncoderSettings::default());
    let cycle = || {
        let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
        decoder.decode(&clip[0].0).unwrap();
        decoder.decode(&clip[1].0).unwrap();
    };
    for _ in 0..10 {
        cycle();
    }
    let Some(before) = resident_kb() else { return };
    for _ in 0..100 {
        cycle();
    }
    let after = resident_kb().unwrap();
    // One 640x480 decoder holds several MB of pictures: 100 leaked would be hundreds.
    assert!(
        after < before + 40_000,
        "resident {before} kB -> {after} kB after 100 decoders"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn round_trips_at_any_even_size(w in 16u32..200, h in 16u32..200, kbps in 300u32..3000) {
        let (w, h) = (w & !1, h & !1);
        let settings = EncoderSettings { bitrate_bps: kbps * 1000, ..EncoderSettings::default() };
        let clip = encode_clip(w, h, 3, settings);
        let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
        let mut rgb = RgbImage::new();
        for (t, (au, _)) in clip.iter().enumerate() {
            prop_assert!(decoder.decode_rgb(au, &mut rgb).unwrap());
            prop_assert_eq!((rgb.width(), rgb.height()), (w, h));
            let quality = psnr(&scene(w, h, t as u32), &rgb);
            prop_assert!(quality > 25.0, "{}x{} frame {}: {:.1} dB", w, h, t, quality);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_access_units_never_panic(
        body in proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), any::<u8>()], 0..400),
        header in prop_oneof![Just(0x65u8), Just(0x41u8), Just(0x67u8), any::<u8>()],
    ) {
        let mut au = vec![0, 0, 0, 1, header];
        au.extend(body);
        let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
        let _ = decoder.decode(&au);
        let _ = decoder.decode(&au);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// A real stream with bytes changed here and there, decoded in order: errors, damaged
    /// pictures, never a panic; and the decoder takes a clean keyframe after.
    #[test]
    fn mutated_streams_never_panic(edits in proptest::collection::vec((0usize..4, any::<prop::sample::Index>(), any::<u8>()), 1..12)) {
        thread_local! {
            static CLIP: Vec<(Vec<u8>, bool)> = encode_clip(96, 64, 4, EncoderSettings::default());
        }
        CLIP.with(|clip| {
            let mut aus: Vec<Vec<u8>> = clip.iter().map(|(au, _)| au.clone()).collect();
            for (frame, at, value) in &edits {
                let au = &mut aus[*frame];
                let i = at.index(au.len());
                au[i] = *value;
            }
            let mut decoder = H264Decoder::new(MAX_PIXELS).unwrap();
            let mut rgb = RgbImage::new();
            for au in &aus {
                let _ = decoder.decode_rgb(au, &mut rgb);
            }
            assert!(decoder.decode_rgb(&clip[0].0, &mut rgb).unwrap());
        });
    }
}

#[test]
fn the_encoder_refuses_odd_and_tiny_frames() {
    let mut encoder = H264Encoder::new(EncoderSettings::default()).unwrap();
    let mut au = Vec::new();
    for (w, h) in [(33, 32), (32, 31), (8, 8)] {
        let err = encoder
            .encode(scene(w, h, 0).view(), 0, &mut au)
            .unwrap_err();
        assert_eq!(err.code(), "encoder", "{w}x{h}");
    }
    assert!(encoder.encode(scene(16, 16, 0).view(), 0, &mut au).unwrap());
    assert!(H264Encoder::new(EncoderSettings {
        bitrate_bps: 0,
        ..EncoderSettings::default()
    })
    .is_err());
}
