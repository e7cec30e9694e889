//! Bits of an H.264 RBSP: emulation prevention removed, read MSB first, with the
//! exp-Golomb codes of H.264 §9.1.

use super::VideoError;

/// Removes the emulation prevention bytes of a NAL unit's payload (H.264 §7.4.1: every
/// `00 00 03` becomes `00 00`), giving its raw byte sequence payload.
pub(crate) fn unescape(nal: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
}

/// Reads bits MSB first; reading past the end is an error naming the field.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position in bits.
    at: usize,
}

/// Leading zeros an exp-Golomb code may have: 31 gives values up to 2^32 - 2.
const MAX_LEADING_ZEROS: u32 = 31;

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, at: 0 }
    }

    fn truncated(what: &'static str) -> VideoError {
        VideoError::BadVideo(format!("truncated SPS: no bits left for {what}"))
    }

    /// One bit.
    pub(crate) fn bit(&mut self, what: &'static str) -> Result<bool, VideoError> {
        let byte = self
            .bytes
            .get(self.at / 8)
            .ok_or_else(|| Self::truncated(what))?;
        let bit = (byte >> (7 - self.at % 8)) & 1 == 1;
        self.at += 1;
        Ok(bit)
    }

    /// `n` bits (at most 32) as an unsigned number, `u(n)`.
    pub(crate) fn bits(&mut self, n: u32, what: &'static str) -> Result<u32, VideoError> {
        debug_assert!(n <= 32);
        let mut value = 0u32;
        for _ in 0..n {
            value = (value << 1) | u32::from(self.bit(what)?);
        }
        Ok(value)
    }

    /// An unsigned exp-Golomb code, `ue(v)`.
    pub(crate) fn ue(&mut self, what: &'static str) -> Result<u32, VideoError> {
        let mut zeros = 0;
        while !self.bit(what)? {
            zeros += 1;
            if zeros > MAX_LEADING_ZEROS {
                return Err(VideoError::BadVideo(format!(
                    "SPS field {what}: exp-Golomb code with more than {MAX_LEADING_ZEROS} leading zeros"
                )));
            }
        }
        let suffix = self.bits(zeros, what)?;
        // 2^zeros - 1 + suffix, at most 2^32 - 2 with 31 zeros.
        Ok(((1u64 << zeros) - 1 + u64::from(suffix)) as u32)
    }

    /// A signed exp-Golomb code, `se(v)`: 0, 1, -1, 2, -2, …
    pub(crate) fn se(&mut self, what: &'static str) -> Result<i64, VideoError> {
        let k = i64::from(self.ue(what)?);
        Ok(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

#[cfg(test)]
pub(crate) mod writer {
    //! The inverse of [`BitReader`](super::BitReader), for tests: bits, exp-Golomb codes,
    //! and emulation prevention.

    /// Writes bits MSB first.
    #[derive(Debug, Default)]
    pub(crate) struct BitWriter {
        pub(crate) bytes: Vec<u8>,
        bits: usize,
    }

    impl BitWriter {
        pub(crate) fn bit(&mut self, bit: bool) {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if bit {
                let last = self.bytes.len() - 1;
                self.bytes[last] |= 1 << (7 - self.bits % 8);
            }
            self.bits += 1;
        }

        pub(crate) fn bits(&mut self, n: u32, value: u32) {
            for i in (0..n).rev() {
                self.bit((value >> i) & 1 == 1);
            }
        }

        pub(crate) fn ue(&mut self, value: u32) {
            let v = u64::from(value) + 1;
            let len = 64 - v.leading_zeros();
            for _ in 0..len - 1 {
                self.bit(false);
            }
            for i in (0..len).rev() {
                self.bit((v >> i) & 1 == 1);
            }
        }

        pub(crate) fn se(&mut self, value: i32) {
            let k = if value > 0 {
                2 * value as u32 - 1
            } else {
                2 * value.unsigned_abs()
            };
            self.ue(k);
        }

        /// rbsp_trailing_bits: a one, then zeros to the byte boundary.
        pub(crate) fn trailing(&mut self) {
            self.bit(true);
            while !self.bits.is_multiple_of(8) {
                self.bit(false);
            }
        }
    }

    /// Inserts emulation prevention bytes: a `03` after every `00 00` that is followed by a
    /// byte of at most 3 (or ends the payload).
    pub(crate) fn escape(rbsp: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 2);
        let mut zeros = 0;
        for &b in rbsp {
            if zeros >= 2 && b <= 3 {
                out.push(3);
                zeros = 0;
            }
            out.push(b);
            zeros = if b == 0 { zeros + 1 } else { 0 };
        }
        if zeros >= 2 {
            out.push(3);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::writer::{escape, BitWriter};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exp_golomb_codes_of_the_standard() {
        // H.264 Table 9-2: 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3 …
        let bytes = [0b1010_0110, 0b0100_0000];
        let mut r = BitReader::new(&bytes);
        assert_eq!(r.ue("a").unwrap(), 0);
        assert_eq!(r.ue("b").unwrap(), 1);
        assert_eq!(r.ue("c").unwrap(), 2);
        assert_eq!(r.ue("d").unwrap(), 3);
        let mut r = BitReader::new(&[0b0100_1100]);
        assert_eq!(r.se("e").unwrap(), 1);
        assert_eq!(r.se("f").unwrap(), -1);
    }

    #[test]
    fn too_many_leading_zeros_and_truncation_are_errors() {
        let zeros = [0u8; 8];
        let err = BitReader::new(&zeros).ue("width").unwrap_err();
        assert!(err.to_string().contains("leading zeros"), "{err}");
        let err = BitReader::new(&[0b0000_0001]).ue("height").unwrap_err();
        assert!(err.to_string().contains("height"), "{err}");
    }

    #[test]
    fn unescape_removes_emulation_prevention() {
        let mut out = Vec::new();
        unescape(&[0, 0, 3, 1, 0, 0, 3, 0, 0, 3], &mut out);
        assert_eq!(out, [0, 0, 1, 0, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn exp_golomb_round_trips(values in proptest::collection::vec((any::<u32>(), any::<i32>()), 0..40)) {
            let mut w = BitWriter::default();
            for &(u, s) in &values {
                let u = u.min(u32::MAX - 1);
                let s = s.clamp(-(1 << 30), 1 << 30);
                w.ue(u);
                w.se(s);
            }
            w.trailing();
            let mut r = BitReader::new(&w.bytes);
            for &(u, s) in &values {
                prop_assert_eq!(r.ue("u").unwrap(), u.min(u32::MAX - 1));
                prop_assert_eq!(r.se("s").unwrap(), i64::from(s.clamp(-(1 << 30), 1 << 30)));
            }
        }

        #[test]
        fn escaping_round_trips(rbsp in proptest::collection::vec(prop_oneof![Just(0u8), Just(3u8), any::<u8>()], 0..200)) {
            let escaped = escape(&rbsp);
            // No start code inside an escaped payload.
            prop_assert!(!escaped.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 2));
            let mut back = Vec::new();
            unescape(&escaped, &mut back);
            // A trailing 03 the escaper added after final zeros is dropped too.
            prop_assert_eq!(back, rbsp);
        }
    }
}
