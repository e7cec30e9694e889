//! H.264 Annex B byte streams: NAL units after start codes (`00 00 01`, or `00 00 00 01`),
//! and what one access unit holds (the payload of one protocol frame of format `h264`).

use super::sps::Sps;
use super::VideoError;

/// The type of a NAL unit (`nal_unit_type`, the low five bits of its first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NalType(pub u8);

impl NalType {
    /// A slice of a picture that references others (P or B).
    pub const SLICE: NalType = NalType(1);
    /// A slice of an IDR picture: decodable on its own.
    pub const IDR: NalType = NalType(5);
    /// Supplemental enhancement information.
    pub const SEI: NalType = NalType(6);
    /// Sequence parameter set.
    pub const SPS: NalType = NalType(7);
    /// Picture parameter set.
    pub const PPS: NalType = NalType(8);
    /// Access unit delimiter.
    pub const AUD: NalType = NalType(9);
    /// End of sequence.
    pub const END_OF_SEQUENCE: NalType = NalType(10);
    /// End of stream.
    pub const END_OF_STREAM: NalType = NalType(11);
    /// Filler data.
    pub const FILLER: NalType = NalType(12);

    /// The types a livepose decoder accepts in a frame: those above. Data partitions (2–4),
    /// SPS extensions, auxiliary slices and the SVC/MVC types (13–23) are refused.
    pub fn is_supported(self) -> bool {
        matches!(self.0, 1 | 5..=12)
    }

    /// Whether a NAL unit of this type carries a slice of a picture.
    pub fn is_slice(self) -> bool {
        self == NalType::SLICE || self == NalType::IDR
    }
}

/// One NAL unit of a byte stream: its header byte and payload, without the start code and
/// without trailing zero bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NalUnit<'a> {
    /// The bytes, starting with the NAL header.
    pub bytes: &'a [u8],
}

impl NalUnit<'_> {
    /// The type; `None` for an empty unit.
    pub fn nal_type(&self) -> Option<NalType> {
        self.bytes.first().map(|b| NalType(b & 0x1f))
    }
}

/// The NAL units of an Annex B byte stream, in order; bytes before the first start code
/// are skipped (see [`scan_access_unit`] for the checks a frame's payload gets).
///
/// ```
/// use livepose_core::video::{nal_units, NalType};
///
/// let stream = [0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x84];
/// let types: Vec<_> = nal_units(&stream).map(|n| n.nal_type().unwrap()).collect();
/// assert_eq!(types, [NalType::SPS, NalType::PPS, NalType::IDR]);
/// ```
pub fn nal_units(stream: &[u8]) -> NalUnits<'_> {
    let rest = match find_start_code(stream) {
        Some((_, end)) => &stream[end..],
        None => &[],
    };
    NalUnits { rest }
}

/// Iterator of [`nal_units`].
#[derive(Debug, Clone)]
pub struct NalUnits<'a> {
    /// What follows the last start code found.
    rest: &'a [u8],
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = NalUnit<'a>;

    fn next(&mut self) -> Option<NalUnit<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let (unit, rest) = match find_start_code(self.rest) {
            Some((start, end)) => (&self.rest[..start], &self.rest[end..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        let len = unit.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        Some(NalUnit {
            bytes: &unit[..len],
        })
    }
}

/// The first `00 00 01` in `bytes`: (where it starts, where it ends).
fn find_start_code(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i + 2 < bytes.len() {
        if bytes[i + 2] > 1 {
            i += 3;
        } else if bytes[i + 2] == 1 && bytes[i] == 0 && bytes[i + 1] == 0 {
            return Some((i, i + 3));
        } else {
            i += 1;
        }
    }
    None
}

/// Writes NAL units (each starting with its header byte) as an Annex B byte stream with
/// four-byte start codes: the inverse of [`nal_units`] for units that end in a non-zero
/// byte, as every well-formed NAL unit does.
pub fn write_annexb<'a>(units: impl IntoIterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    for unit in units {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(unit);
    }
}

/// What one access unit holds, as [`scan_access_unit`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessUnitInfo {
    /// It holds an IDR picture: decodable without the frames before it.
    pub keyframe: bool,
    /// The last sequence parameter set in it, if any.
    pub sps: Option<Sps>,
    /// It holds a picture parameter set.
    pub has_pps: bool,
    /// NAL units in it.
    pub nal_units: usize,
}

impl AccessUnitInfo {
    /// Checks the frame's `KEYFRAME` flag against the content: set exactly when the access
    /// unit holds an IDR picture.
    pub fn check_keyframe_flag(&self, flag: bool) -> Result<(), VideoError> {
        match (flag, self.keyframe) {
            (true, false) => Err(VideoError::BadVideo(
                "the KEYFRAME flag is set but the access unit holds no IDR picture".into(),
            )),
            (false, true) => Err(VideoError::BadVideo(
                "the access unit holds an IDR picture but the KEYFRAME flag is not set".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Checks the picture against `max_pixels` (the size its SPS declares, after cropping),
    /// and that the decoder supports the stream: before anything is given to a decoder.
    pub fn check_limits(&self, max_pixels: u64) -> Result<(), VideoError> {
        let Some(sps) = self.sps else { return Ok(()) };
        if sps.pixels() > max_pixels {
            return Err(VideoError::TooLarge {
                width: sps.width,
                height: sps.height,
                max_pixels,
            });
        }
        sps.check_decodable()
    }
}

/// Checks that `au` is one access unit in Annex B form, as a protocol frame of format
/// `h264` carries it, and reads what it holds:
///
/// - it starts with a start code (zero bytes before it are allowed);
/// - every NAL unit is non-empty, has its forbidden bit clear and a supported type
///   ([`NalType::is_supported`]);
/// - every SPS parses ([`Sps::parse`]);
/// - it holds at least one slice, and its slices are all IDR or all non-IDR.
///
/// Never reads outside `au` and never panics, whatever the bytes (fuzzed).
pub fn scan_access_unit(au: &[u8]) -> Result<AccessUnitInfo, VideoError> {
    let bad = |why: String| Err(VideoError::BadVideo(why));
    match find_start_code(au) {
        Some((start, _)) if au[..start].iter().all(|&b| b == 0) => {}
        _ => return bad("not an Annex B access unit: it does not start with a start code".into()),
    }
    let mut info = AccessUnitInfo {
        keyframe: false,
        sps: None,
        has_pps: false,
        nal_units: 0,
    };
    let (mut idr, mut non_idr) = (0, 0);
    for (i, unit) in nal_units(au).enumerate() {
        info.nal_units += 1;
        let Some(&header) = unit.bytes.first() else {
            return bad(format!("NAL unit {i} is empty"));
        };
        if header & 0x80 != 0 {
            return bad(format!("NAL unit {i}: forbidden_zero_bit is set"));
        }
        let nal_type = NalType(header & 0x1f);
        if !nal_type.is_supported() {
            return bad(format!(
                "NAL unit {i} is of type {}, which is not supported (only 1 and 5 to 12)",
                nal_type.0
            ));
        }
        match nal_type {
            NalType::SPS => info.sps = Some(Sps::parse(unit.bytes)?),
            NalType::PPS => info.has_pps = true,
            NalType::IDR => idr += 1,
            NalType::SLICE => non_idr += 1,
            _ => {}
        }
    }
    if idr + non_idr == 0 {
        return bad("the access unit holds no slice (no picture)".into());
    }
    if idr > 0 && non_idr > 0 {
        return bad("the access unit mixes IDR and non-IDR slices".into());
    }
    info.keyframe = idr > 0;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::super::bits::writer::escape;
    use super::super::sps::tests::{sps_nal, SpsSpec};
    use super::*;
    use proptest::prelude::*;

    fn au(units: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        write_annexb(units.iter().copied(), &mut out);
        out
    }

    #[test]
    fn splits_three_and_four_byte_start_codes_and_strips_trailing_zeros() {
        let stream = [
            0, 0, 1, 0x67, 1, 2, 0, 0, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 4, 0, 0,
        ];
        let units: Vec<&[u8]> = nal_units(&stream).map(|u| u.bytes).collect();
        assert_eq!(units, [&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4]]);
        assert_eq!(nal_units(&[1, 2, 3]).count(), 0);
        assert_eq!(nal_units(&[]).count(), 0);
    }

    #[test]
    fn scans_a_keyframe_and_a_delta_frame() {
        let sps = sps_nal(SpsSpec::new(40, 30));
        let key = au(&[
            &[0x09, 0xf0],
            &sps,
            &[0x68, 0xce, 0x3c, 0x80],
            &[0x65, 0x88, 0x84],
        ]);
        let info = scan_access_unit(&key).unwrap();
        assert!(info.keyframe && info.has_pps);
        assert_eq!(info.sps.map(|s| (s.width, s.height)), Some((640, 480)));
        assert_eq!(info.nal_units, 4);
        info.check_keyframe_flag(true).unwrap();
        assert!(info.check_keyframe_flag(false).is_err());
        info.check_limits(640 * 480).unwrap();
        let delta = scan_access_unit(&au(&[&[0x41, 0x9a, 0x02]])).unwrap();
        assert!(!delta.keyframe && delta.sps.is_none());
        assert!(delta.check_keyframe_flag(true).is_err());
    }

    #[test]
    fn a_huge_sps_is_refused_before_decoding() {
        let sps = sps_nal(SpsSpec::new(1024, 1024));
        let info = scan_access_unit(&au(&[&sps, &[0x68, 0xce], &[0x65, 0x88]])).unwrap();
        let err = info.check_limits(16 << 20).unwrap_err();
        assert_eq!(err.code(), "image_too_large");
        assert!(err.to_string().contains("16384x16384"), "{err}");
    }

    #[test]
    fn refuses_what_is_not_one_access_unit() {
        let cases: [(&[u8], &str); 7] = [
            (b"\xff\xd8\xff\xe0 a JPEG", "start code"),
            (&[0, 0, 1], "no slice"),
            (&[0, 0, 1, 0, 0, 1, 0x65, 1], "empty"),
            (&[0, 0, 1, 0xe5, 1], "forbidden"),
            (&[0, 0, 1, 0x74, 1], "type 20"),
            (&[0, 0, 1, 0x68, 1], "no slice"),
            (&[0, 0, 1, 0x65, 1, 0, 0, 1, 0x41, 1], "mixes"),
        ];
        for (bytes, why) in cases {
            let err = scan_access_unit(bytes).unwrap_err();
            assert_eq!(err.code(), "bad_video");
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
    }

    /// A NAL unit body: a header byte, then escaped random bytes ending in a non-zero byte.
    fn nal_unit() -> impl Strategy<Value = Vec<u8>> {
        (
            1u8..=12,
            proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..100),
        )
            .prop_map(|(t, body)| {
                let mut unit = vec![0x60 | t];
                unit.extend(escape(&body));
                unit.push(0x80); // rbsp_stop_one_bit
                unit
            })
    }

    proptest! {
        #[test]
        fn annexb_round_trips(units in proptest::collection::vec(nal_unit(), 0..12), three_byte in any::<bool>()) {
            let mut stream = Vec::new();
            write_annexb(units.iter().map(Vec::as_slice), &mut stream);
            if three_byte && !stream.is_empty() {
                stream.remove(0);
            }
            let back: Vec<&[u8]> = nal_units(&stream).map(|u| u.bytes).collect();
            prop_assert_eq!(back, units.iter().map(Vec::as_slice).collect::<Vec<_>>());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), any::<u8>()], 0..300)) {
            if let Ok(info) = scan_access_unit(&bytes) {
                prop_assert!(info.nal_units >= 1);
                let _ = info.check_limits(1 << 20);
            }
        }
    }
}
