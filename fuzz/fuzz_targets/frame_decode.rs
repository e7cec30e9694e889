//! Binary frame messages: any bytes either parse into a consistent view or give an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::image::Codec;
use livepose_core::video::scan_access_unit;
use livepose_core::wire::{FrameFlags, FrameView, ImageFormat};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = FrameView::parse(data) {
        // A parsed frame is self-consistent: the payload is the rest of the message and a
        // raw payload has exactly the declared size.
        assert_eq!(frame.payload.as_ptr_range().end, data.as_ptr_range().end);
        if let ImageFormat::Raw { .. } = frame.header.format {
            assert_eq!(frame.header.format.raw_len(), Some(frame.payload.len() as u64));
        }
        // An H.264 payload is then checked as a server checks it: an error or a consistent
        // reading, and the KEYFRAME flag agrees with the content or is refused.
        if frame.header.format == ImageFormat::Encoded(Codec::H264) {
            if let Ok(info) = scan_access_unit(frame.payload) {
                let flag = frame.header.flags.contains(FrameFlags::KEYFRAME);
                assert_eq!(info.check_keyframe_flag(flag).is_ok(), flag == info.keyframe);
            }
        }
        // Re-encoding gives back the same header and payload.
        let mut again = Vec::new();
        frame.header.encode_with_payload(frame.payload, &mut again).unwrap();
        assert_eq!(FrameView::parse(&again).unwrap(), frame);
    }
});
