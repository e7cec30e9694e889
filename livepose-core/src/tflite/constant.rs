//! The values of a constant tensor as `f32`: float32 data as stored, float16 data widened
//! (what DEQUANTIZE does to MediaPipe's fp16 weights), and block-sparse data expanded to
//! the dense tensor (what DENSIFY does), following TFLite's sparsity format.

use super::model::{DimensionFormat, Sparsity, Tensor, TensorType};
use super::TfliteError;

fn malformed(what: impl Into<String>) -> TfliteError {
    TfliteError::Malformed(what.into())
}

/// An IEEE 754 half-precision value, widened exactly.
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    let magnitude = match (exponent, mantissa) {
        (0, 0) => 0,
        // Subnormal: mantissa × 2^-24, exact in f32.
        (0, m) => {
            return f32::from_bits(sign)
                + (m as f32) * f32::from_bits(0x3380_0000) * if sign != 0 { -1.0 } else { 1.0 }
        }
        (0x1f, m) => 0x7f80_0000 | (m << 13),
        (e, m) => ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(sign | magnitude)
}

/// The stored values of `tensor` (dense or not) as f32.
fn stored(tensor: &Tensor<'_>) -> Result<Vec<f32>, TfliteError> {
    let data = tensor
        .data
        .ok_or_else(|| malformed(format!("tensor {:?} has no constant data", tensor.name)))?;
    match tensor.dtype {
        TensorType::Float32 => Ok(data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        TensorType::Float16 => Ok(data
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect()),
        other => Err(malformed(format!(
            "tensor {:?} holds {other:?}, not floats",
            tensor.name
        ))),
    }
}

/// The dense values of a constant float tensor, row-major in its TFLite shape.
pub fn values_f32(tensor: &Tensor<'_>) -> Result<Vec<f32>, TfliteError> {
    let values = stored(tensor)?;
    let shape = tensor
        .shape
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| {
                malformed(format!(
                    "tensor {:?} has shape {:?}",
                    tensor.name, tensor.shape
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| malformed("tensor too large"))?;
    match &tensor.sparsity {
        None if values.len() == count => Ok(values),
        None => Err(malformed(format!(
            "tensor {:?} has {} values for shape {:?}",
            tensor.name,
            values.len(),
            tensor.shape
        ))),
        Some(sparsity) => densify(&values, &shape, count, sparsity, &tensor.name),
    }
}

/// Expands block-sparse `values` into a dense tensor of `shape` (TFLite's FormatConverter).
fn densify(
    values: &[f32],
    shape: &[usize],
    count: usize,
    s: &Sparsity,
    name: &str,
) -> Result<Vec<f32>, TfliteError> {
    let rank = shape.len();
    let levels = s.traversal_order.len();
    if s.dim_metadata.len() != levels || levels != rank + s.block_map.len() {
        return Err(malformed(format!(
            "tensor {name:?}: sparsity of {levels} levels for rank {rank}"
        )));
    }
    // Size of each traversed dimension: tensor dimensions divided by their block size,
    // block dimensions their block size.
    let mut block = vec![1usize; rank];
    for (k, &d) in s.block_map.iter().enumerate() {
        let size = match s.dim_metadata.get(rank + k) {
            Some(DimensionFormat::Dense { size }) if *size > 0 => *size,
            _ => {
                return Err(malformed(format!(
                    "tensor {name:?}: block dimension {k} is not dense"
                )))
            }
        };
        *block
            .get_mut(d)
            .ok_or_else(|| malformed(format!("tensor {name:?}: block map {d}")))? = size;
    }
    if s.traversal_order.iter().any(|&d| d >= levels) {
        return Err(malformed(format!(
            "tensor {name:?}: traversal order {:?}",
            s.traversal_order
        )));
    }
    let mut dense = vec![0f32; count];
    let mut index = vec![0usize; levels];
    let walk = Walk {
        values,
        shape,
        block: &block,
        s,
        dense: &mut dense,
        name,
    };
    walk.level(0, 0, &mut index)?;
    Ok(dense)
}

struct Walk<'w> {
    values: &'w [f32],
    shape: &'w [usize],
    block: &'w [usize],
    s: &'w Sparsity,
    dense: &'w mut [f32],
    name: &'w str,
}

impl Walk<'_> {
    /// Visits traversal level `level` under position `parent`, `index` holding the indices
    /// chosen so far (by traversed dimension).
    fn level(
        mut self,
        level: usize,
        parent: usize,
        index: &mut [usize],
    ) -> Result<Self, TfliteError> {
        if level == index.len() {
            return self.place(parent, index);
        }
        let dim = self.s.traversal_order[level];
        match &self.s.dim_metadata[level] {
            DimensionFormat::Dense { size } => {
                for i in 0..*size {
                    index[dim] = i;
                    self = self.level(level + 1, parent * size + i, index)?;
                }
            }
            DimensionFormat::SparseCsr { segments, indices } => {
                let (start, end) = match (segments.get(parent), segments.get(parent + 1)) {
                    (Some(&a), Some(&b)) if a <= b && b <= indices.len() => (a, b),
                    _ => {
                        return Err(malformed(format!(
                            "tensor {:?}: bad segment {parent}",
                            self.name
                        )))
                    }
                };
                for (position, &i) in indices.iter().enumerate().take(end).skip(start) {
                    index[dim] = i;
                    self = self.level(level + 1, position, index)?;
                }
            }
        }
        Ok(self)
    }

    /// Writes stored value `position` where `index` says.
    fn place(self, position: usize, index: &[usize]) -> Result<Self, TfliteError> {
        let rank = self.shape.len();
        let mut offset = 0usize;
        for d in 0..rank {
            let mut coordinate = index[d] * self.block[d];
            if let Some(k) = self.s.block_map.iter().position(|&b| b == d) {
                coordinate += index[rank + k];
            }
            if coordinate >= self.shape[d] {
                return Err(malformed(format!(
                    "tensor {:?}: index {coordinate} past dimension {d}",
                    self.name
                )));
            }
            offset = offset * self.shape[d] + coordinate;
        }
        let value = *self.values.get(position).ok_or_else(|| {
            malformed(format!(
                "tensor {:?}: value {position} of {}",
                self.name,
                self.values.len()
            ))
        })?;
        self.dense[offset] = value;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_widen_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x8001), -5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite() && f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
    }

    #[test]
    fn a_block_sparse_matrix_expands() {
        // 4x4 in 2x2 blocks; blocks (0,1) and (1,0) stored, CSR over block rows.
        let s = Sparsity {
            traversal_order: vec![0, 1, 2, 3],
            block_map: vec![0, 1],
            dim_metadata: vec![
                DimensionFormat::Dense { size: 2 },
                DimensionFormat::SparseCsr {
                    segments: vec![0, 1, 2],
                    indices: vec![1, 0],
                },
                DimensionFormat::Dense { size: 2 },
                DimensionFormat::Dense { size: 2 },
            ],
        };
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let dense = densify(&values, &[4, 4], 16, &s, "m").unwrap();
        #[rustfmt::skip]
        let want = [
            0.0, 0.0, 1.0, 2.0,
            0.0, 0.0, 3.0, 4.0,
            5.0, 6.0, 0.0, 0.0,
            7.0, 8.0, 0.0, 0.0,
        ];
        assert_eq!(dense, want);
    }

    #[test]
    fn inconsistent_sparsity_is_an_error() {
        let s = Sparsity {
            traversal_order: vec![0, 1],
            block_map: vec![],
            dim_metadata: vec![
                DimensionFormat::Dense { size: 2 },
                DimensionFormat::SparseCsr {
                    segments: vec![0, 5],
                    indices: vec![9],
                },
            ],
        };
        assert!(densify(&[1.0], &[2, 2], 4, &s, "m").is_err());
    }
}
