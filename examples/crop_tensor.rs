//! Decodes an image, letterboxes it into the pose detector's 224x224 tensor and crops a
//! rotated region into the landmark model's 256x256 tensor, timing each step, and writes
//! both tensors as PNG files so you can look at what the models would see.
//!
//! ```text
//! cargo run --release --example crop_tensor -- frame.jpg out-dir [degrees]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use livepose::core::image::{
    crop_rotated, letterbox, Border, Downscaler, ImageDecoder, RgbImage, RotatedRect, TensorSpec,
};

/// Writes an NHWC float tensor in `range` as an RGB PNG.
fn save_tensor(
    tensor: &[f32],
    size: usize,
    range: (f32, f32),
    path: &PathBuf,
) -> Result<(), Box<dyn std::error::Error>> {
    let bytes: Vec<u8> = tensor
        .iter()
        .map(|v| {
            ((v - range.0) / (range.1 - range.0) * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect();
    image::save_buffer(
        path,
        &bytes,
        size as u32,
        size as u32,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .ok_or("usage: crop_tensor <image> <out-dir> [degrees]")?;
    let out_dir = PathBuf::from(
        args.next()
            .ok_or("usage: crop_tensor <image> <out-dir> [degrees]")?,
    );
    let degrees: f32 = args.next().map(|d| d.parse()).transpose()?.unwrap_or(15.0);
    std::fs::create_dir_all(&out_dir)?;

    let bytes = std::fs::read(&input)?;
    let mut decoder = ImageDecoder::default();
    let mut frame = RgbImage::new();
    let started = Instant::now();
    decoder.decode(&bytes, &mut frame)?;
    println!(
        "decode    {}x{}: {:?}",
        frame.width(),
        frame.height(),
        started.elapsed()
    );

    let mut downscaler = Downscaler::new();
    let started = Instant::now();
    let small = downscaler.to_short_side(frame.view(), 384)?;
    println!(
        "downscale to {}x{}: {:?}",
        small.width(),
        small.height(),
        started.elapsed()
    );

    let detector = TensorSpec {
        size: 224,
        range: (-1.0, 1.0),
        border: Border::Zero,
    };
    let mut tensor = Vec::new();
    let started = Instant::now();
    letterbox(frame.view(), &detector, &mut tensor);
    println!("letterbox 224x224: {:?}", started.elapsed());
    save_tensor(
        &tensor,
        224,
        detector.range,
        &out_dir.join("detector_224.png"),
    )?;

    // A square region around the centre, turned like a region of interest would be.
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let side = w.min(h) * 0.9;
    let rect = RotatedRect::new(w / 2.0, h / 2.0, side, side, degrees.to_radians());
    let landmark = TensorSpec {
        size: 256,
        range: (0.0, 1.0),
        border: Border::Replicate,
    };
    let started = Instant::now();
    crop_rotated(frame.view(), &rect, &landmark, &mut tensor);
    println!(
        "rotated crop 256x256 ({degrees} degrees): {:?}",
        started.elapsed()
    );
    save_tensor(
        &tensor,
        256,
        landmark.range,
        &out_dir.join("landmarks_256.png"),
    )?;
    println!(
        "wrote {0}/detector_224.png and {0}/landmarks_256.png",
        out_dir.display()
    );
    Ok(())
}
