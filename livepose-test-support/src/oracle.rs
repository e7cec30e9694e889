//! What the TFLite interpreter itself (ai-edge-litert, reference kernels) computes on
//! MediaPipe's models: the `.npz` files `scripts/tflite-oracle.sh` writes, one per model,
//! named by the SHA-256 of the `.tflite` file (see `scripts/tflite_oracle.py`).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::data;

/// A float32 array of the oracle: its shape and values, row-major.
#[derive(Debug, Clone)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The oracle's arrays for the `.tflite` file at `tflite` (float32 arrays only, by name:
/// `input_<n>`, `output_<n>_<output name>`, `densify_<sparse tensor index>`).
pub fn load(tflite: &Path) -> HashMap<String, Array> {
    let bytes = std::fs::read(tflite).unwrap_or_else(|e| panic!("{}: {e}", tflite.display()));
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = data::oracle_dir().join(format!("{sha}.npz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "no TFLite interpreter outputs for {} at {} ({e}): make them with \
             `bash scripts/tflite-oracle.sh {} {} {}` (scripts/test-data.sh does)",
            tflite.display(),
            path.display(),
            data::models_dir().display(),
            data::media_dir().display(),
            data::oracle_dir().display()
        )
    });
    let mut zip = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut arrays = HashMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let name = name
            .strip_suffix(".npy")
            .expect("an .npy member")
            .to_string();
        let mut npy = Vec::new();
        entry.read_to_end(&mut npy).unwrap();
        if let Some(array) = parse_npy(&npy) {
            arrays.insert(name, array);
        }
    }
    arrays
}

/// A NumPy `.npy` file holding little-endian float32 in C order; `None` for any other
/// element type (the oracle's string arrays).
fn parse_npy(npy: &[u8]) -> Option<Array> {
    assert_eq!(&npy[..6], b"\x93NUMPY", "not an .npy file");
    let (header_len, start) = match npy[6] {
        1 => (u16::from_le_bytes([npy[8], npy[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([npy[8], npy[9], npy[10], npy[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&npy[start..start + header_len]).unwrap();
    if !header.contains("'descr': '<f4'") {
        return None;
    }
    assert!(header.contains("'fortran_order': False"), "{header}");
    let dims = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no shape in {header}"));
    let shape: Vec<usize> = dims
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse().unwrap())
        .collect();
    let values: Vec<f32> = npy[start + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(values.len(), shape.iter().product::<usize>(), "{header}");
    Some(Array { shape, values })
}
