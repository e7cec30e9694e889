//! `livepose convert`: MediaPipe `.tflite` models to ONNX with livepose's own converter.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::Error;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A `.tflite` file (written to `--out`, default beside it as `.onnx`), or a folder
    /// whose every `.tflite` file is converted beside itself.
    input: PathBuf,
    /// Where to write the ONNX model (a single input file only).
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub(crate) fn main(args: Args) -> Result<(), Error> {
    if args.input.is_dir() {
        if args.out.is_some() {
            return Err("--out is for a single input file".into());
        }
        for input in tflite_files(&args.input)? {
            convert_file(&input, &input.with_extension("onnx"))?;
        }
        Ok(())
    } else {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| args.input.with_extension("onnx"));
        convert_file(&args.input, &out)
    }
}

/// The `.tflite` files of `dir`, sorted.
pub(crate) fn tflite_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tflite"))
        .collect();
    files.sort();
    Ok(files)
}

/// Converts `input` to `out`, printing what it wrote.
pub(crate) fn convert_file(input: &Path, out: &Path) -> Result<(), Error> {
    let name = input
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let started = Instant::now();
    let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let onnx = livepose::core::tflite::tflite_to_onnx(&bytes, &name)?;
    std::fs::write(out, &onnx).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "{} -> {} ({} bytes, {:.0} ms)",
        input.display(),
        out.display(),
        onnx.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
