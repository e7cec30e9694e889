//! Binary frame messages: any bytes either parse into a consistent view or give an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::wire::{FrameView, ImageFormat};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = FrameView::parse(data) {
        // A parsed frame is self-consistent: the payload is the rest of the message and a
        // raw payload has exactly the declared size.
        assert_eq!(frame.payload.as_ptr_range().end, data.as_ptr_range().end);
        if let ImageFormat::Raw { .. } = frame.header.format {
            assert_eq!(frame.header.format.raw_len(), Some(frame.payload.len() as u64));
        }
        // Re-encoding gives back the same header and payload.
        let mut again = Vec::new();
        frame.header.encode_with_payload(frame.payload, &mut again).unwrap();
        assert_eq!(FrameView::parse(&again).unwrap(), frame);
    }
});
