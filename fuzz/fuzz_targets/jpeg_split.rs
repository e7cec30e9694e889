//! The JPEG stream splitter: any bytes, in any chunks, give only whole files (start and end
//! of image, within the limit), never a panic, and never hold much more than the limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::image::JpegSplitter;

const MAX_LEN: usize = 4096;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, the rest is the stream.
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let mut split = JpegSplitter::new(MAX_LEN);
    for part in stream.chunks(usize::from(chunk).max(1)) {
        split.push(part);
        while let Some(frame) = split.next_frame() {
            assert!(frame.len() <= MAX_LEN);
            assert_eq!(&frame[..2], &[0xFF, 0xD8]);
            assert_eq!(&frame[frame.len() - 2..], &[0xFF, 0xD9]);
        }
        assert!(split.buffered() <= MAX_LEN + 2 * 256);
    }
});
