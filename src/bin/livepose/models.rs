//! `livepose models fetch`: MediaPipe's pose and hand models from the npm registry.
//!
//! `npm pack` downloads `@mediapipe/pose` and `@mediapipe/hands` (npm's own cache and
//! registry settings apply); the `.tflite` files are taken out of the tarballs (the pose
//! detector is the whole of `pose_solution_packed_assets.data`; the palm detectors sit
//! inside `hands_solution_packed_assets.data` at the offsets its loader script lists),
//! each checked against its SHA-256 below, written to the models folder and converted to
//! ONNX beside itself. Files already there with the right SHA-256 are kept.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use sha2::{Digest, Sha256};

use crate::convert::convert_file;
use crate::Error;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Fetch MediaPipe's pose and hand models through npm (`npm pack`), check their
    /// SHA-256 and convert them to ONNX, into DIR (default: LIVEPOSE_MODELS, else
    /// ~/.cache/livepose/models), where every livepose component looks by default.
    Fetch(FetchArgs),
}

#[derive(clap::Args)]
pub(crate) struct FetchArgs {
    /// The models folder.
    dir: Option<PathBuf>,
    /// Fetch and convert again even when the files are already there.
    #[arg(long)]
    force: bool,
}

/// The npm packages, pinned.
const POSE_PACKAGE: &str = "@mediapipe/pose@0.5.1675469404";
const HANDS_PACKAGE: &str = "@mediapipe/hands@0.4.1675469240";

/// Each model file: its name in the models folder, where it is in the packages, and its
/// SHA-256.
const MODELS: [(&str, Origin, &str); 8] = [
    (
        "pose_detection.tflite",
        Origin::Pose("pose_solution_packed_assets.data"),
        "a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85",
    ),
    (
        "pose_landmark_lite.tflite",
        Origin::Pose("pose_landmark_lite.tflite"),
        "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    ),
    (
        "pose_landmark_full.tflite",
        Origin::Pose("pose_landmark_full.tflite"),
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
    (
        "pose_landmark_heavy.tflite",
        Origin::Pose("pose_landmark_heavy.tflite"),
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
    ),
    (
        "hand_landmark_lite.tflite",
        Origin::Hands("hand_landmark_lite.tflite"),
        "d7fde8ac11f8ce03f8663775bfc323f4fc9f2a38062b4f4efa142874ef5b2a48",
    ),
    (
        "hand_landmark_full.tflite",
        Origin::Hands("hand_landmark_full.tflite"),
        "8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68",
    ),
    (
        "palm_detection_lite.tflite",
        Origin::HandsPacked("palm_detection_lite.tflite"),
        "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
    ),
    (
        "palm_detection_full.tflite",
        Origin::HandsPacked("palm_detection_full.tflite"),
        "2f25e740121983f68ffc05f99991d524dc0ea812134f6316a26125816941ee85",
    ),
];

/// Where a model file is in the npm packages.
#[derive(Clone, Copy)]
enum Origin {
    /// A whole file of `@mediapipe/pose`.
    Pose(&'static str),
    /// A whole file of `@mediapipe/hands`.
    Hands(&'static str),
    /// A file inside `@mediapipe/hands`'s packed assets.
    HandsPacked(&'static str),
}

const HANDS_PACKED: &str = "hands_solution_packed_assets.data";
const HANDS_LOADER: &str = "hands_solution_packed_assets_loader.js";

pub(crate) fn main(command: Command) -> Result<(), Error> {
    match command {
        Command::Fetch(args) => fetch(args),
    }
}

fn fetch(args: FetchArgs) -> Result<(), Error> {
    let dir = livepose::core::inference::model_files::models_dir(args.dir.as_deref());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let missing: Vec<_> = MODELS
        .iter()
        .filter(|(name, _, sha)| args.force || !has_file(&dir.join(name), sha))
        .collect();
    if !missing.is_empty() {
        let work = TempDir::new()?;
        let pose = npm_pack(POSE_PACKAGE, &work.0)?;
        let hands = npm_pack(HANDS_PACKAGE, &work.0)?;
        let offsets = packed_offsets(file(&hands, HANDS_LOADER)?)?;
        for &&(name, origin, sha) in &missing {
            let bytes = match origin {
                Origin::Pose(member) => file(&pose, member)?,
                Origin::Hands(member) => file(&hands, member)?,
                Origin::HandsPacked(member) => {
                    let &(start, end) = offsets
                        .get(member)
                        .ok_or_else(|| format!("{member} is not in {HANDS_LOADER}"))?;
                    file(&hands, HANDS_PACKED)?
                        .get(start..end)
                        .ok_or_else(|| format!("{member}: offsets {start}..{end} out of range"))?
                }
            };
            let got = sha256_hex(bytes);
            if got != sha {
                return Err(format!("{name} has SHA-256 {got}, expected {sha}").into());
            }
            write_atomically(&dir.join(name), bytes)?;
            println!("models: {name} ({} bytes, SHA-256 verified)", bytes.len());
        }
    }
    for (name, _, _) in MODELS {
        let tflite = dir.join(name);
        let onnx = tflite.with_extension("onnx");
        let fresh = missing.iter().any(|(n, _, _)| *n == name);
        if fresh || !onnx.exists() {
            convert_file(&tflite, &onnx)?;
        }
    }
    println!("models: {} ({} models)", dir.display(), MODELS.len());
    Ok(())
}

/// Whether `path` exists with the SHA-256 `sha`.
fn has_file(path: &Path, sha: &str) -> bool {
    std::fs::read(path).is_ok_and(|bytes| sha256_hex(&bytes) == sha)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Files of an npm tarball, by their path inside `package/`.
type Tarball = HashMap<String, Vec<u8>>;

/// `npm pack SPEC` into `dir`, read back.
fn npm_pack(spec: &str, dir: &Path) -> Result<Tarball, Error> {
    println!("models: npm pack {spec}");
    let out = Process::new("npm")
        .args(["pack", "--silent", spec])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("npm (Node.js) is needed to fetch the models: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "npm pack {spec} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let name = String::from_utf8(out.stdout)?
        .lines()
        .last()
        .map(str::trim)
        .filter(|n| n.ends_with(".tgz"))
        .ok_or_else(|| format!("npm pack {spec} named no tarball"))?
        .to_string();
    read_tarball(&std::fs::read(dir.join(&name))?)
}

/// The files of a gzipped tar, keyed by their path below its top folder.
fn read_tarball(tgz: &[u8]) -> Result<Tarball, Error> {
    let mut files = HashMap::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        let name = path.split_once('/').map_or(path.as_str(), |(_, rest)| rest);
        let name = name.to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        files.insert(name, bytes);
    }
    Ok(files)
}

fn file<'a>(tarball: &'a Tarball, name: &str) -> Result<&'a [u8], Error> {
    tarball
        .get(name)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{name} not found in the npm package").into())
}

/// The `"files": [{"filename", "start", "end"}, ...]` table of an Emscripten packed-assets
/// loader script: file name (without folders) to byte range.
fn packed_offsets(loader: &[u8]) -> Result<HashMap<String, (usize, usize)>, Error> {
    #[derive(serde::Deserialize)]
    struct Entry {
        filename: String,
        start: usize,
        end: usize,
    }
    let text = std::str::from_utf8(loader)?;
    let bad = || format!("{HANDS_LOADER}: no \"files\" table");
    let at = text.find("\"files\"").ok_or_else(bad)?;
    let open = at + text[at..].find('[').ok_or_else(bad)?;
    let close = open + text[open..].find(']').ok_or_else(bad)?;
    let entries: Vec<Entry> = serde_json::from_str(&text[open..=close])?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let name = e
                .filename
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            (name, (e.start, e.end))
        })
        .collect())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

/// A temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, Error> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("livepose-models-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_packed_assets_table() {
        let loader = br#"var x = {"files": [{"filename": "/third_party/mediapipe/modules/palm_detection/palm_detection_lite.tflite", "start": 10, "end": 25, "audio": 0}, {"filename": "/a/b.binarypb", "start": 25, "end": 30}], "remote_package_size": 30};"#;
        let offsets = packed_offsets(loader).unwrap();
        assert_eq!(offsets["palm_detection_lite.tflite"], (10, 25));
        assert_eq!(offsets["b.binarypb"], (25, 30));
        assert!(packed_offsets(b"no table here").is_err());
        assert!(packed_offsets(br#""files": [{"filename": 3}]"#).is_err());
    }

    #[test]
    fn reads_a_gzipped_tarball_below_its_top_folder() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_cksum();
        tar.append_data(&mut header, "package/a/b.txt", &b"abc"[..])
            .unwrap();
        let tar = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let files = read_tarball(&gz.finish().unwrap()).unwrap();
        assert_eq!(files["a/b.txt"], b"abc");
        assert!(read_tarball(b"not gzip").is_err());
    }

    #[test]
    fn checks_sha256() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
