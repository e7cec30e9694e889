//! Image operations on real frames of the shared clips, plus checksum tests of the geometric
//! operations on a deterministic synthetic image (bit-exact regression checks, in the manner
//! of fast_image_resize).

use livepose_core::image::{
    crop_rotated, letterbox, Border, DecoderConfig, Downscaler, ImageDecoder, ImageError,
    JpegBackend, PixelLayout, RgbImage, RotatedRect, TensorSpec,
};
use livepose_test_support::frames;

const SIZES: [(u32, u32); 3] = [(640, 480), (1280, 720), (1920, 1080)];

fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn tensor_checksum(tensor: &[f32]) -> u64 {
    fnv1a(tensor.iter().flat_map(|v| v.to_bits().to_le_bytes()))
}

#[test]
fn decodes_real_frames_at_three_sizes() {
    let mut zune = ImageDecoder::new(DecoderConfig::default());
    let mut a = RgbImage::new();
    for (w, h) in SIZES {
        let jpeg = frames::jpeg_frame(frames::OUTDOOR, 60, w, h);
        assert_eq!(zune.dimensions(&jpeg).unwrap(), (w, h));
        zune.decode(&jpeg, &mut a).unwrap();
        assert_eq!((a.width(), a.height()), (w, h));
        // A real outdoor scene, not a flat image.
        let luma_mean = a.data().iter().map(|v| f64::from(*v)).sum::<f64>() / a.data().len() as f64;
        assert!((30.0..220.0).contains(&luma_mean), "{luma_mean}");
    }
}

/// With `--features turbojpeg` (needs the system libjpeg-turbo): two independent decoders
/// agree up to IDCT and chroma-upsampling rounding.
#[cfg(feature = "turbojpeg")]
#[test]
fn zune_and_libjpeg_turbo_agree_on_real_frames() {
    let mut zune = ImageDecoder::new(DecoderConfig::default());
    let mut turbo = ImageDecoder::new(DecoderConfig::default().jpeg(JpegBackend::TurboJpeg));
    let (mut a, mut b) = (RgbImage::new(), RgbImage::new());
    for (w, h) in SIZES {
        let jpeg = frames::jpeg_frame(frames::OUTDOOR, 60, w, h);
        zune.decode(&jpeg, &mut a).unwrap();
        turbo.decode(&jpeg, &mut b).unwrap();
        assert_eq!((b.width(), b.height()), (w, h));
        let diffs: Vec<u32> = a
            .data()
            .iter()
            .zip(b.data())
            .map(|(x, y)| u32::from(x.abs_diff(*y)))
            .collect();
        let mean = diffs.iter().sum::<u32>() as f64 / diffs.len() as f64;
        println!(
            "{w}x{h}: {} bytes, zune vs libjpeg-turbo mean |diff| {mean:.3}",
            jpeg.len()
        );
        assert!(mean < 1.5, "{w}x{h}: mean difference {mean}");
    }
}

#[test]
fn decoder_reuses_its_output_buffer() {
    let mut decoder = ImageDecoder::default();
    let mut image = RgbImage::new();
    decoder
        .decode(
            &frames::jpeg_frame(frames::OUTDOOR, 10, 640, 480),
            &mut image,
        )
        .unwrap();
    let ptr = image.data().as_ptr();
    decoder
        .decode(
            &frames::jpeg_frame(frames::OUTDOOR, 20, 640, 480),
            &mut image,
        )
        .unwrap();
    assert_eq!(
        image.data().as_ptr(),
        ptr,
        "same-size frames reuse the allocation"
    );
}

/// Overwrites the dimensions in a baseline JPEG's SOF0 segment.
fn patch_sof_dimensions(jpeg: &mut [u8], width: u16, height: u16) {
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    let mut jpeg = frames::jpeg_frame(frames::OUTDOOR, 0, 640, 480);
    patch_sof_dimensions(&mut jpeg, 60000, 60000);
    for &backend in JpegBackend::AVAILABLE {
        let mut decoder = ImageDecoder::new(DecoderConfig::default().jpeg(backend));
        let mut image = RgbImage::new();
        let started = std::time::Instant::now();
        let err = decoder.decode(&jpeg, &mut image).unwrap_err();
        assert_eq!(
            err,
            ImageError::TooLarge {
                width: 60000,
                height: 60000,
                max_pixels: 4096 * 4096
            },
            "{backend:?}"
        );
        assert!(image.data().is_empty(), "nothing allocated for the bomb");
        println!("{backend:?}: refused in {:?}", started.elapsed());
    }
    let mut strict = ImageDecoder::new(DecoderConfig::default().max_pixels(640 * 480 - 1));
    let ok = frames::jpeg_frame(frames::OUTDOOR, 0, 640, 480);
    assert!(matches!(
        strict.decode(&ok, &mut RgbImage::new()),
        Err(ImageError::TooLarge { .. })
    ));
}

#[test]
fn corrupt_jpegs_are_errors_not_panics() {
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 5, 640, 480);
    let mut decoder = ImageDecoder::default();
    let mut image = RgbImage::new();
    // Header cut off: no frame header at all.
    let err = decoder.decode(&jpeg[..100], &mut image).unwrap_err();
    assert!(
        matches!(err, ImageError::Corrupt { codec: "JPEG", .. }),
        "{err}"
    );
    // Garbage instead of entropy-coded data, and every truncation point: never a panic.
    let mut garbage = jpeg.clone();
    let start = garbage.len() / 3;
    for (i, b) in garbage[start..].iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    let _ = decoder.decode(&garbage, &mut image);
    for cut in (0..jpeg.len()).step_by(997) {
        let _ = decoder.decode(&jpeg[..cut], &mut image);
    }
}

#[test]
fn downscale_letterbox_and_crop_a_real_frame() {
    let jpeg = frames::jpeg_frame(frames::LAB, 30, 1080, 1920);
    let mut decoder = ImageDecoder::default();
    let mut frame = RgbImage::new();
    decoder.decode(&jpeg, &mut frame).unwrap();
    assert_eq!((frame.width(), frame.height()), (1080, 1920));

    let mut downscaler = Downscaler::new();
    let small = downscaler.to_short_side(frame.view(), 384).unwrap();
    assert_eq!((small.width(), small.height()), (384, 683));

    // Letterbox for the detector: portrait, so left and right columns are padding (-1).
    let spec = TensorSpec {
        size: 224,
        range: (-1.0, 1.0),
        border: Border::Zero,
    };
    let mut tensor = Vec::new();
    let rect = letterbox(frame.view(), &spec, &mut tensor);
    assert_eq!(tensor.len(), 224 * 224 * 3);
    let at = |u: usize, v: usize| &tensor[(v * 224 + u) * 3..(v * 224 + u) * 3 + 3];
    assert!(at(0, 112).iter().all(|x| *x == -1.0) && at(223, 112).iter().all(|x| *x == -1.0));
    assert!(at(112, 112).iter().any(|x| *x != -1.0));
    assert_eq!(rect.project(0.5, 0.5), (540.0, 960.0));

    // Crop with unit scale at integer positions: the tensor holds the decoded pixels exactly.
    let crop_spec = TensorSpec {
        size: 256,
        range: (0.0, 255.0),
        border: Border::Replicate,
    };
    let rect = RotatedRect::new(300.0 + 128.0, 800.0 + 128.0, 256.0, 256.0, 0.0);
    crop_rotated(frame.view(), &rect, &crop_spec, &mut tensor);
    for (u, v) in [(0usize, 0usize), (17, 200), (255, 255)] {
        let src = ((800 + v) * 1080 + 300 + u) * 3;
        let expected: Vec<f32> = frame.data()[src..src + 3]
            .iter()
            .map(|b| f32::from(*b))
            .collect();
        assert_eq!(
            &tensor[(v * 256 + u) * 3..(v * 256 + u) * 3 + 3],
            &expected[..],
            "({u}, {v})"
        );
    }

    // Rotated 30 degrees around the dancer: values stay in range, no border leaks in.
    let landmark_spec = TensorSpec {
        size: 256,
        range: (0.0, 1.0),
        border: Border::Replicate,
    };
    let rect = RotatedRect::new(540.0, 960.0, 900.0, 900.0, 30f32.to_radians());
    crop_rotated(frame.view(), &rect, &landmark_spec, &mut tensor);
    assert!(tensor.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn png_and_webp_frames_decode_like_the_jpeg() {
    // The same frame through three codecs: PNG is lossless, JPEG and WebP close to it.
    let mut decoder = ImageDecoder::default();
    let decode = |decoder: &mut ImageDecoder, ext: &str| {
        let mut img = RgbImage::new();
        decoder
            .decode(
                &frames::frame_file(frames::OUTDOOR, 45, 320, 180, ext),
                &mut img,
            )
            .unwrap();
        assert_eq!((img.width(), img.height()), (320, 180), "{ext}");
        img
    };
    let png = decode(&mut decoder, "png");
    let webp = decode(&mut decoder, "webp");
    assert!(
        webp.data() == png.data(),
        "lossless WebP decodes to the PNG's pixels"
    );
    for (ext, bound) in [("jpg", 6.0), ("lossy.webp", 12.0)] {
        let lossy = decode(&mut decoder, ext);
        let mean = png
            .data()
            .iter()
            .zip(lossy.data())
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / png.data().len() as f64;
        println!("{ext} vs png: mean |diff| {mean:.2}");
        assert!(mean < bound, "{ext}: mean difference {mean}");
    }
}

#[test]
fn raw_rgba_frames_load_like_decoded_ones() {
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 90, 640, 480);
    let mut decoder = ImageDecoder::default();
    let mut frame = RgbImage::new();
    decoder.decode(&jpeg, &mut frame).unwrap();
    let rgba: Vec<u8> = frame
        .data()
        .chunks(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let mut raw = RgbImage::new();
    raw.copy_from_raw(PixelLayout::Rgba8, 640, 480, &rgba)
        .unwrap();
    assert_eq!(raw, frame);
}

/// A deterministic 97x61 test card: gradients, a checkerboard and a diagonal.
fn test_card() -> RgbImage {
    let (w, h) = (97u32, 61u32);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let checker = if (x / 8 + y / 8) % 2 == 0 { 255 } else { 0 };
            let diagonal = if x.abs_diff(y) < 2 {
                255
            } else {
                (x * 255 / w) as u8
            };
            data.extend_from_slice(&[checker, diagonal, (y * 255 / h) as u8]);
        }
    }
    RgbImage::from_rgb8(w, h, data).unwrap()
}

#[test]
fn geometric_ops_match_their_checksums() {
    let card = test_card();
    let mut tensor = Vec::new();
    let crop = TensorSpec {
        size: 64,
        range: (0.0, 1.0),
        border: Border::Replicate,
    };
    crop_rotated(
        card.view(),
        &RotatedRect::new(40.3, 27.9, 70.0, 50.0, 0.61),
        &crop,
        &mut tensor,
    );
    let rotated = tensor_checksum(&tensor);
    let detector = TensorSpec {
        size: 32,
        range: (-1.0, 1.0),
        border: Border::Zero,
    };
    letterbox(card.view(), &detector, &mut tensor);
    let letterboxed = tensor_checksum(&tensor);
    let mut downscaler = Downscaler::new();
    let small = downscaler.to_short_side(card.view(), 20).unwrap();
    let downscaled = fnv1a(small.data().iter().copied());
    println!("checksums: rotated {rotated:#018x}, letterboxed {letterboxed:#018x}, downscaled {downscaled:#018x}");
    assert_eq!(rotated, 0x8663_e407_0e81_7332, "rotated crop changed");
    assert_eq!(letterboxed, 0xac0a_7287_6ad8_0833, "letterbox changed");
    assert_eq!(downscaled, 0x2e44_21e3_0c31_9b98, "downscale changed");
}

#[test]
fn truncated_jpegs_are_errors_with_both_backends() {
    // zune-jpeg runs in strict mode: a cut-off file is an error, not a half-grey frame.
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 5, 640, 480);
    for &backend in JpegBackend::AVAILABLE {
        let mut decoder = ImageDecoder::new(DecoderConfig::default().jpeg(backend));
        let mut image = RgbImage::new();
        for fraction in [0.1, 0.5, 0.9, 0.999] {
            let cut = (jpeg.len() as f64 * fraction) as usize;
            let err = decoder.decode(&jpeg[..cut], &mut image).unwrap_err();
            assert!(
                matches!(err, ImageError::Corrupt { codec: "JPEG", .. }),
                "{backend:?} {fraction}: {err}"
            );
        }
    }
}
