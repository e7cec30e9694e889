//! The sequence parameter set (H.264 §7.3.2.1.1), read far enough to know the picture's
//! size and whether the decoder supports the stream: so that a stream declaring a huge
//! picture is refused before any decoder allocates for it.

use super::bits::{unescape, BitReader};
use super::VideoError;

/// What livepose reads from a sequence parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`: 66 baseline, 77 main, 88 extended, 100 high, …
    pub profile_idc: u8,
    /// `level_idc`: ten times the level (31 for 3.1).
    pub level_idc: u8,
    /// `seq_parameter_set_id`.
    pub id: u32,
    /// `chroma_format_idc`: 1 for 4:2:0 (the only one decoded here).
    pub chroma_format_idc: u32,
    /// Bits per luma sample.
    pub bit_depth_luma: u32,
    /// Bits per chroma sample.
    pub bit_depth_chroma: u32,
    /// Whether every picture is a frame (no field or MBAFF coding).
    pub frame_mbs_only: bool,
    /// Width of the coded picture: macroblocks × 16.
    pub coded_width: u32,
    /// Height of the coded picture: map units × 16, twice that with field coding.
    pub coded_height: u32,
    /// Width after the SPS's cropping: the picture shown.
    pub width: u32,
    /// Height after cropping.
    pub height: u32,
}

/// Profiles whose SPS carries chroma format, bit depth and scaling matrices (§7.3.2.1.1).
const HIGH_PROFILES: [u8; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];
/// Profiles the OpenH264 decoder decodes, of those an SPS can name: baseline, main,
/// extended, high.
const DECODED_PROFILES: [u8; 4] = [66, 77, 88, 100];
/// `pic_width_in_mbs_minus1` and `pic_height_in_map_units_minus1` beyond this make a picture
/// wider or taller than 65,536 pixels: refused as malformed whatever the pixel limit.
const MAX_MBS_MINUS1: u32 = 4095;

impl Sps {
    /// Parses the NAL unit of an SPS (its header byte first, emulation prevention still in).
    pub fn parse(nal: &[u8]) -> Result<Sps, VideoError> {
        let mut rbsp = Vec::new();
        unescape(nal.get(1..).unwrap_or_default(), &mut rbsp);
        let mut r = BitReader::new(&rbsp);
        let profile_idc = r.bits(8, "profile_idc")? as u8;
        let _constraint_flags = r.bits(8, "constraint flags")?;
        let level_idc = r.bits(8, "level_idc")? as u8;
        let id = r.ue("seq_parameter_set_id")?;
        if id > 31 {
            return Err(bad(format!("seq_parameter_set_id {id} (at most 31)")));
        }
        let (mut chroma_format_idc, mut separate_colour_plane) = (1, false);
        let (mut bit_depth_luma, mut bit_depth_chroma) = (8, 8);
        if HIGH_PROFILES.contains(&profile_idc) {
            chroma_format_idc = r.ue("chroma_format_idc")?;
            if chroma_format_idc > 3 {
                return Err(bad(format!("chroma_format_idc {chroma_format_idc}")));
            }
            if chroma_format_idc == 3 {
                separate_colour_plane = r.bit("separate_colour_plane_flag")?;
            }
            bit_depth_luma = r.ue("bit_depth_luma_minus8")?.saturating_add(8);
            bit_depth_chroma = r.ue("bit_depth_chroma_minus8")?.saturating_add(8);
            if bit_depth_luma > 14 || bit_depth_chroma > 14 {
                return Err(bad(format!(
                    "bit depth {bit_depth_luma}/{bit_depth_chroma} (at most 14)"
                )));
            }
            r.bit("qpprime_y_zero_transform_bypass_flag")?;
            if r.bit("seq_scaling_matrix_present_flag")? {
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if r.bit("seq_scaling_list_present_flag")? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        let log2_max_frame_num = r.ue("log2_max_frame_num_minus4")?.saturating_add(4);
        if log2_max_frame_num > 16 {
            return Err(bad(format!(
                "log2_max_frame_num {log2_max_frame_num} (at most 16)"
            )));
        }
        match r.ue("pic_order_cnt_type")? {
            0 => {
                let lsb = r.ue("log2_max_pic_order_cnt_lsb_minus4")?;
                if lsb > 12 {
                    return Err(bad(format!("log2_max_pic_order_cnt_lsb_minus4 {lsb}")));
                }
            }
            1 => {
                r.bit("delta_pic_order_always_zero_flag")?;
                r.se("offset_for_non_ref_pic")?;
                r.se("offset_for_top_to_bottom_field")?;
                let cycle = r.ue("num_ref_frames_in_pic_order_cnt_cycle")?;
                if cycle > 255 {
                    return Err(bad(format!(
                        "num_ref_frames_in_pic_order_cnt_cycle {cycle} (at most 255)"
                    )));
                }
                for _ in 0..cycle {
                    r.se("offset_for_ref_frame")?;
                }
            }
            2 => {}
            other => return Err(bad(format!("pic_order_cnt_type {other}"))),
        }
        let refs = r.ue("max_num_ref_frames")?;
        if refs > 16 {
            return Err(bad(format!("max_num_ref_frames {refs} (at most 16)")));
        }
        r.bit("gaps_in_frame_num_value_allowed_flag")?;
        let width_mbs_minus1 = r.ue("pic_width_in_mbs_minus1")?;
        let height_units_minus1 = r.ue("pic_height_in_map_units_minus1")?;
        if width_mbs_minus1 > MAX_MBS_MINUS1 || height_units_minus1 > MAX_MBS_MINUS1 {
            return Err(bad(format!(
                "a picture of {} x {} macroblocks",
                u64::from(width_mbs_minus1) + 1,
                u64::from(height_units_minus1) + 1
            )));
        }
        let frame_mbs_only = r.bit("frame_mbs_only_flag")?;
        if !frame_mbs_only {
            r.bit("mb_adaptive_frame_field_flag")?;
        }
        r.bit("direct_8x8_inference_flag")?;
        let coded_width = (width_mbs_minus1 + 1) * 16;
        let coded_height = (height_units_minus1 + 1) * 16 * if frame_mbs_only { 1 } else { 2 };
        let (mut width, mut height) = (coded_width, coded_height);
        if r.bit("frame_cropping_flag")? {
            // Crop units (§7.4.2.1.1): chroma samples, and two rows per unit with fields.
            let chroma_array_type = if separate_colour_plane {
                0
            } else {
                chroma_format_idc
            };
            let (sub_width, sub_height): (u64, u64) = match chroma_array_type {
                1 => (2, 2),
                2 => (2, 1),
                _ => (1, 1),
            };
            let unit_x = sub_width;
            let unit_y = sub_height * if frame_mbs_only { 1 } else { 2 };
            let left = u64::from(r.ue("frame_crop_left_offset")?);
            let right = u64::from(r.ue("frame_crop_right_offset")?);
            let top = u64::from(r.ue("frame_crop_top_offset")?);
            let bottom = u64::from(r.ue("frame_crop_bottom_offset")?);
            let crop_x = (left + right) * unit_x;
            let crop_y = (top + bottom) * unit_y;
            if crop_x >= u64::from(coded_width) || crop_y >= u64::from(coded_height) {
                return Err(bad(format!(
                    "cropping {crop_x} columns and {crop_y} rows of a {coded_width}x{coded_height} picture"
                )));
            }
            width = coded_width - crop_x as u32;
            height = coded_height - crop_y as u32;
        }
        Ok(Sps {
            profile_idc,
            level_idc,
            id,
            chroma_format_idc,
            bit_depth_luma,
            bit_depth_chroma,
            frame_mbs_only,
            coded_width,
            coded_height,
            width,
            height,
        })
    }

    /// Whether the OpenH264 decoder can decode this stream: 8-bit 4:2:0 frames (no field
    /// coding) of the baseline, main, extended or high profile. Says why not.
    pub fn check_decodable(&self) -> Result<(), VideoError> {
        let why = if !DECODED_PROFILES.contains(&self.profile_idc) {
            format!("profile_idc {}", self.profile_idc)
        } else if self.chroma_format_idc != 1 {
            format!("chroma_format_idc {} (only 4:2:0)", self.chroma_format_idc)
        } else if self.bit_depth_luma != 8 || self.bit_depth_chroma != 8 {
            format!(
                "{}-bit samples (only 8-bit)",
                self.bit_depth_luma.max(self.bit_depth_chroma)
            )
        } else if !self.frame_mbs_only {
            "field (interlaced) coding".to_string()
        } else if self.coded_width - self.width >= 16 || self.coded_height - self.height >= 16 {
            format!(
                "cropping a {}x{} picture to {}x{} (more than a macroblock)",
                self.coded_width, self.coded_height, self.width, self.height
            )
        } else {
            return Ok(());
        };
        Err(VideoError::BadVideo(format!(
            "unsupported H.264 stream: {why}"
        )))
    }

    /// Pixels of the picture shown (after cropping).
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

fn bad(what: String) -> VideoError {
    VideoError::BadVideo(format!("malformed SPS: {what}"))
}

/// Skips a scaling list (§7.3.2.1.1.1): `size` delta_scale values unless it ends early.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), VideoError> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = r.se("delta_scale")?;
            if !(-128..=127).contains(&delta) {
                return Err(bad(format!("delta_scale {delta}")));
            }
            next = (last + delta + 256) % 256;
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::bits::writer::{escape, BitWriter};
    use super::*;
    use proptest::prelude::*;

    /// What a test SPS declares.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct SpsSpec {
        pub profile_idc: u8,
        pub width_mbs: u32,
        pub height_mbs: u32,
        /// Crop offsets in crop units: left, right, top, bottom.
        pub crop: Option<[u32; 4]>,
        pub poc_type: u32,
        pub scaling: bool,
    }

    impl SpsSpec {
        pub(crate) fn new(width_mbs: u32, height_mbs: u32) -> Self {
            SpsSpec {
                profile_idc: 66,
                width_mbs,
                height_mbs,
                crop: None,
                poc_type: 2,
                scaling: false,
            }
        }
    }

    /// An SPS NAL unit (header byte 0x67, emulation prevention applied).
    pub(crate) fn sps_nal(spec: SpsSpec) -> Vec<u8> {
        let mut w = BitWriter::default();
        w.bits(8, u32::from(spec.profile_idc));
        w.bits(8, 0);
        w.bits(8, 31);
        w.ue(0);
        if HIGH_PROFILES.contains(&spec.profile_idc) {
            w.ue(1); // 4:2:0
            w.ue(0);
            w.ue(0);
            w.bit(false);
            w.bit(spec.scaling);
            if spec.scaling {
                for i in 0..8 {
                    w.bit(i % 2 == 0);
                    if i % 2 == 0 {
                        for _ in 0..if i < 6 { 16 } else { 64 } {
                            w.se(1);
                        }
                    }
                }
            }
        }
        w.ue(0); // log2_max_frame_num_minus4
        w.ue(spec.poc_type);
        match spec.poc_type {
            0 => w.ue(2),
            1 => {
                w.bit(false);
                w.se(-1);
                w.se(2);
                w.ue(3);
                for v in [1, -2, 3] {
                    w.se(v);
                }
            }
            _ => {}
        }
        w.ue(1); // max_num_ref_frames
        w.bit(false);
        w.ue(spec.width_mbs - 1);
        w.ue(spec.height_mbs - 1);
        w.bit(true); // frame_mbs_only
        w.bit(true); // direct_8x8_inference
        w.bit(spec.crop.is_some());
        if let Some(crop) = spec.crop {
            for c in crop {
                w.ue(c);
            }
        }
        w.bit(false); // vui_parameters_present_flag
        w.trailing();
        let mut nal = vec![0x67];
        nal.extend(escape(&w.bytes));
        nal
    }

    #[test]
    fn reads_a_480p_baseline_sps() {
        let sps = Sps::parse(&sps_nal(SpsSpec::new(40, 30))).unwrap();
        assert_eq!((sps.width, sps.height), (640, 480));
        assert_eq!((sps.coded_width, sps.coded_height), (640, 480));
        assert_eq!(sps.profile_idc, 66);
        sps.check_decodable().unwrap();
    }

    #[test]
    fn cropping_gives_1080p() {
        let spec = SpsSpec {
            crop: Some([0, 0, 0, 4]),
            profile_idc: 100,
            ..SpsSpec::new(120, 68)
        };
        let sps = Sps::parse(&sps_nal(spec)).unwrap();
        assert_eq!((sps.coded_width, sps.coded_height), (1920, 1088));
        assert_eq!((sps.width, sps.height), (1920, 1080));
        sps.check_decodable().unwrap();
    }

    #[test]
    fn a_16384_square_picture_parses_and_counts_its_pixels() {
        let sps = Sps::parse(&sps_nal(SpsSpec::new(1024, 1024))).unwrap();
        assert_eq!((sps.width, sps.height), (16384, 16384));
        assert_eq!(sps.pixels(), 1 << 28);
    }

    #[test]
    fn refuses_what_the_decoder_cannot_decode() {
        let high10 = Sps {
            bit_depth_luma: 10,
            ..Sps::parse(&sps_nal(SpsSpec::new(4, 4))).unwrap()
        };
        let err = high10.check_decodable().unwrap_err();
        assert!(err.to_string().contains("10-bit"), "{err}");
        let cropped = SpsSpec {
            crop: Some([0, 0, 0, 40]),
            ..SpsSpec::new(8, 8)
        };
        let err = Sps::parse(&sps_nal(cropped))
            .unwrap()
            .check_decodable()
            .unwrap_err();
        assert!(err.to_string().contains("cropping"), "{err}");
        let scalable = Sps {
            profile_idc: 83,
            ..Sps::parse(&sps_nal(SpsSpec::new(4, 4))).unwrap()
        };
        assert!(scalable.check_decodable().is_err());
    }

    #[test]
    fn malformed_fields_are_errors() {
        // Cropping the whole picture away.
        let spec = SpsSpec {
            crop: Some([16, 16, 0, 0]),
            ..SpsSpec::new(4, 4)
        };
        let err = Sps::parse(&sps_nal(spec)).unwrap_err();
        assert!(err.to_string().contains("cropping"), "{err}");
        // Prefixes of a valid SPS: those that end before its last field are truncated.
        let nal = sps_nal(SpsSpec::new(40, 30));
        for len in 0..nal.len() {
            match Sps::parse(&nal[..len]) {
                Err(e) => assert!(e.to_string().contains("truncated"), "{e}"),
                Ok(sps) => assert!(len >= nal.len() - 2 && sps.width == 640, "prefix of {len}"),
            }
        }
        // A width beyond 65,536 pixels.
        let huge = sps_nal(SpsSpec::new(5000, 2));
        assert!(Sps::parse(&huge).is_err());
    }

    proptest! {
        #[test]
        fn dimensions_round_trip(
            width_mbs in 1u32..300,
            height_mbs in 1u32..300,
            crop in proptest::option::of([0u32..4, 0u32..4, 0u32..4, 0u32..4]),
            profile in prop_oneof![Just(66u8), Just(77u8), Just(100u8)],
            poc_type in 0u32..3,
            scaling in any::<bool>(),
        ) {
            let crop = crop.filter(|c| 2 * (c[0] + c[1]) < 16 * width_mbs && 2 * (c[2] + c[3]) < 16 * height_mbs);
            let spec = SpsSpec { profile_idc: profile, width_mbs, height_mbs, crop, poc_type, scaling };
            let sps = Sps::parse(&sps_nal(spec)).unwrap();
            let [l, r, t, b] = crop.unwrap_or_default();
            prop_assert_eq!(sps.width, 16 * width_mbs - 2 * (l + r));
            prop_assert_eq!(sps.height, 16 * height_mbs - 2 * (t + b));
            prop_assert_eq!(sps.profile_idc, profile);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Sps::parse(&bytes);
        }
    }
}
