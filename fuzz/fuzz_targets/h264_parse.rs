//! H.264 access units as a frame carries them (Annex B, SPS): any bytes are refused with
//! an error or read consistently, never a panic; and the byte-stream splitter, fed the same
//! bytes in chunks, stays within its limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::video::{nal_units, scan_access_unit, AccessUnitSplitter, NalType, Sps};

const MAX_LEN: usize = 4096;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = scan_access_unit(data) {
        assert!(info.nal_units >= 1);
        let _ = info.check_limits(1 << 20);
        info.check_keyframe_flag(info.keyframe).unwrap();
    }
    for unit in nal_units(data) {
        assert!(!unit.bytes.windows(3).any(|w| w == [0, 0, 1]));
        if unit.nal_type() == Some(NalType::SPS) {
            if let Ok(sps) = Sps::parse(unit.bytes) {
                assert!(sps.width <= sps.coded_width && sps.height <= sps.coded_height);
                assert!(sps.width > 0 && sps.height > 0);
            }
        }
    }
    // The first byte picks the chunk size, the rest is the stream.
    if let Some((&chunk, stream)) = data.split_first() {
        let mut split = AccessUnitSplitter::new(MAX_LEN);
        for part in stream.chunks(usize::from(chunk).max(1)) {
            split.push(part);
            while let Some(au) = split.next_access_unit() {
                assert!(au.len() <= MAX_LEN);
            }
            assert!(split.buffered() <= MAX_LEN + 256 + 4);
        }
        let _ = split.finish();
    }
});
