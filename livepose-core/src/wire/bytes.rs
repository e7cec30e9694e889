//! Little-endian field access on byte slices: bounds-checked reads that return
//! [`WireError::Truncated`] instead of panicking, and appending writes.

use super::WireError;

/// Reads fixed-size little-endian fields from a message, checking bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes }
    }

    /// `len` bytes at `at`, or `Truncated` naming `what`.
    pub fn slice(&self, at: usize, len: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let end = at.checked_add(len).ok_or(WireError::Truncated {
            what,
            needed: usize::MAX,
            available: self.bytes.len(),
        })?;
        self.bytes.get(at..end).ok_or(WireError::Truncated {
            what,
            needed: end,
            available: self.bytes.len(),
        })
    }

    fn array<const N: usize>(&self, at: usize, what: &'static str) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(at, N, what)?);
        Ok(out)
    }

    pub fn u8(&self, at: usize, what: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(at, what)?[0])
    }
    pub fn u16(&self, at: usize, what: &'static str) -> Result<u16, WireError> {
        self.array(at, what).map(u16::from_le_bytes)
    }
    pub fn u32(&self, at: usize, what: &'static str) -> Result<u32, WireError> {
        self.array(at, what).map(u32::from_le_bytes)
    }
    pub fn u64(&self, at: usize, what: &'static str) -> Result<u64, WireError> {
        self.array(at, what).map(u64::from_le_bytes)
    }
    pub fn i64(&self, at: usize, what: &'static str) -> Result<i64, WireError> {
        self.array(at, what).map(i64::from_le_bytes)
    }
    pub fn f32(&self, at: usize, what: &'static str) -> Result<f32, WireError> {
        self.array(at, what).map(f32::from_le_bytes)
    }
}

/// Reads the `i`-th little-endian f32 of a slice already validated to hold it.
///
/// Only called on slices whose length was checked when the view was parsed; an out-of-range
/// index reads as 0.0 rather than panicking.
#[inline]
pub(crate) fn f32_at(bytes: &[u8], i: usize) -> f32 {
    let at = i * 4;
    match bytes.get(at..at + 4) {
        Some(b) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0.0,
    }
}

/// Appends little-endian fields to a buffer.
pub(crate) trait PutLe {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_i64(&mut self, v: i64);
    fn put_f32(&mut self, v: f32);
}

impl PutLe for Vec<u8> {
    #[inline]
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    #[inline]
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    fn put_i64(&mut self, v: i64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    fn put_f32(&mut self, v: f32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
}
