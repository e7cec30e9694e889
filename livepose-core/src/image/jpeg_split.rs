//! [`JpegSplitter`]: cuts a byte stream of concatenated JPEG files (what `ffmpeg -f mjpeg`
//! writes, or an MJPEG stream without its multipart headers) into the files, whatever the
//! chunks it arrives in.
//!
//! It walks the markers rather than looking for the first `FF D9`: marker segments are
//! skipped by their length (an EXIF thumbnail holds a JPEG of its own, `FF D9` included),
//! and in entropy-coded data `FF 00` (a stuffed byte), `FF D0`..`FF D7` (restarts) and fill
//! bytes are data. Bytes before a start of image are skipped; a file larger than the limit,
//! or one whose markers make no sense, is dropped and the splitter looks for the next start.
//!
//! ```
//! use livepose_core::image::JpegSplitter;
//!
//! let jpeg = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9];
//! let mut split = JpegSplitter::new(1 << 20);
//! split.push(b"junk");
//! split.push(&jpeg[..5]);
//! assert_eq!(split.next_frame(), None);
//! split.push(&jpeg[5..]);
//! assert_eq!(split.next_frame().as_deref(), Some(&jpeg[..]));
//! ```

/// Where the splitter is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for a start of image (`FF D8`).
    Seek,
    /// At a marker of the current file (`pos` is its `FF`).
    Marker,
    /// In entropy-coded data after a start of scan (scanning on from `pos`).
    Entropy,
}

/// Splits a byte stream into JPEG files (start of image to end of image, both included).
#[derive(Debug)]
pub struct JpegSplitter {
    buf: Vec<u8>,
    /// How far the current file has been parsed (an index into `buf`).
    pos: usize,
    state: State,
    max_len: usize,
    dropped: u64,
}

impl JpegSplitter {
    /// A splitter that drops files longer than `max_len` bytes (and never holds much more
    /// than that plus one pushed chunk).
    pub fn new(max_len: usize) -> Self {
        JpegSplitter {
            buf: Vec::new(),
            pos: 0,
            state: State::Seek,
            max_len: max_len.max(4),
            dropped: 0,
        }
    }

    /// Appends bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Files dropped so far: too large, or with markers that make no sense.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bytes held now (a file not yet complete, or a byte that may start one).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete file, if the bytes pushed so far hold one.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.state != State::Seek && self.pos + 2 > self.max_len {
                // Too large: skip its start of image and look for the next file.
                self.drop_file(2);
                continue;
            }
            match self.state {
                State::Seek => {
                    match self.buf.windows(2).position(|w| w == [0xFF, 0xD8]) {
                        Some(start) => {
                            self.buf.drain(..start);
                            self.pos = 2;
                            self.state = State::Marker;
                        }
                        None => {
                            // Keep a last `FF`: the next chunk may begin with `D8`.
                            let keep = usize::from(self.buf.last() == Some(&0xFF));
                            let len = self.buf.len();
                            self.buf.drain(..len - keep);
                            return None;
                        }
                    }
                }
                State::Marker => {
                    let (pos, buf) = (self.pos, &self.buf);
                    if buf.len() < pos + 2 {
                        return None;
                    }
                    if buf[pos] != 0xFF {
                        self.drop_file(1);
                        continue;
                    }
                    match buf[pos + 1] {
                        // Fill byte before a marker.
                        0xFF => self.pos += 1,
                        0xD9 => {
                            let rest = self.buf.split_off(pos + 2);
                            let file = std::mem::replace(&mut self.buf, rest);
                            self.state = State::Seek;
                            return Some(file);
                        }
                        // A new start of image before this one ended: begin again there.
                        0xD8 => {
                            self.buf.drain(..pos);
                            self.drop_file_keeping_start();
                        }
                        // Markers without a length.
                        0x01 | 0xD0..=0xD7 => self.pos += 2,
                        0x00 => self.drop_file(1),
                        marker => {
                            if buf.len() < pos + 4 {
                                return None;
                            }
                            let len = usize::from(u16::from_be_bytes([buf[pos + 2], buf[pos + 3]]));
                            if len < 2 {
                                self.drop_file(1);
                                continue;
                            }
                            self.pos += 2 + len;
                            if marker == 0xDA {
                                self.state = State::Entropy;
                            }
                        }
                    }
                }
                State::Entropy => {
                    let data = &self.buf[self.pos.min(self.buf.len())..];
                    let found = data
                        .windows(2)
                        .position(|w| w[0] == 0xFF && !matches!(w[1], 0x00 | 0xD0..=0xD7 | 0xFF));
                    match found {
                        Some(at) => {
                            self.pos += at;
                            self.state = State::Marker;
                        }
                        None => {
                            // Scan on from the last byte next time (it may be an `FF`).
                            self.pos = self.buf.len().saturating_sub(1).max(self.pos);
                            return None;
                        }
                    }
                }
            }
        }
    }

    /// Drops the current file: skips `skip` bytes and looks for the next start of image.
    fn drop_file(&mut self, skip: usize) {
        self.dropped += 1;
        let skip = skip.min(self.buf.len());
        self.buf.drain(..skip);
        self.pos = 0;
        self.state = State::Seek;
    }

    /// Drops the current file, whose next start of image is now at the front of `buf`.
    fn drop_file_keeping_start(&mut self) {
        self.dropped += 1;
        self.pos = 2;
        self.state = State::Marker;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A JPEG-shaped file: an APP1 segment holding `app` (which may contain `FF D9`), a
    /// start of scan and entropy-coded `data` with every `FF` stuffed or a restart marker.
    fn file(app: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((app.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(app);
        out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x01]);
        for (i, &b) in data.iter().enumerate() {
            out.push(b);
            if b == 0xFF {
                out.push(if i % 3 == 0 {
                    0xD0 + (i % 8) as u8
                } else {
                    0x00
                });
            }
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    fn split_all(stream: &[u8], chunks: &[usize], max_len: usize) -> Vec<Vec<u8>> {
        let mut split = JpegSplitter::new(max_len);
        let mut out = Vec::new();
        let mut rest = stream;
        let mut sizes = chunks.iter().cycle();
        while !rest.is_empty() {
            let n = (*sizes.next().unwrap()).clamp(1, rest.len());
            split.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(frame) = split.next_frame() {
                out.push(frame);
            }
        }
        out
    }

    #[test]
    fn an_end_marker_inside_a_segment_is_not_the_end() {
        let thumbnail = [0xFF, 0xD8, 0xFF, 0xD9];
        let jpeg = file(&thumbnail, &[1, 0xFF, 2, 0xFF, 3]);
        assert_eq!(split_all(&jpeg, &[1], 1 << 20), std::slice::from_ref(&jpeg));
        assert_eq!(split_all(&jpeg, &[1000], 1 << 20), [jpeg]);
    }

    #[test]
    fn junk_and_broken_files_are_skipped() {
        let good = file(b"ok", &[9, 8, 7]);
        let mut stream = b"--boundary\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
        stream.extend_from_slice(&[0xFF, 0xD8, 0x12, 0x34]); // no marker after SOI
        stream.extend_from_slice(&good);
        stream.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01]); // bad length
        stream.extend_from_slice(&good);
        let mut split = JpegSplitter::new(1 << 20);
        split.push(&stream);
        assert_eq!(split.next_frame(), Some(good.clone()));
        assert_eq!(split.next_frame(), Some(good));
        assert_eq!(split.next_frame(), None);
        assert_eq!(split.dropped(), 2);
    }

    #[test]
    fn a_file_over_the_limit_is_dropped_and_memory_stays_bounded() {
        let big = file(&[], &[5; 5000]);
        let small = file(&[], &[5; 10]);
        let stream = [big.clone(), small.clone(), big].concat();
        let mut split = JpegSplitter::new(1000);
        let mut out = Vec::new();
        for chunk in stream.chunks(100) {
            split.push(chunk);
            while let Some(frame) = split.next_frame() {
                out.push(frame);
            }
            assert!(split.buffered() <= 1100);
        }
        assert_eq!(out, [small]);
        assert_eq!(split.dropped(), 2);
    }

    #[test]
    fn a_new_start_before_the_end_begins_a_new_file() {
        let good = file(b"x", &[1]);
        let stream = [&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2, 3][..], &good].concat();
        assert_eq!(split_all(&stream, &[3], 1 << 20), [good]);
    }

    proptest! {
        #[test]
        fn any_chunking_gives_back_the_files(
            files in prop::collection::vec(
                (prop::collection::vec(any::<u8>(), 0..40), prop::collection::vec(any::<u8>(), 0..200)),
                1..6,
            ),
            // Bytes between files (no `FF`, so no false start of image).
            gap in prop::collection::vec(0u8..0xFF, 0..20),
            chunks in prop::collection::vec(1usize..64, 1..10),
        ) {
            let files: Vec<Vec<u8>> = files.iter().map(|(app, data)| file(app, data)).collect();
            let mut stream = Vec::new();
            for f in &files {
                stream.extend_from_slice(&gap);
                stream.extend_from_slice(f);
            }
            prop_assert_eq!(split_all(&stream, &chunks, 1 << 20), files);
        }

        #[test]
        fn arbitrary_bytes_give_only_whole_bounded_files(
            stream in prop::collection::vec(
                prop_oneof![Just(0xFFu8), Just(0xD8), Just(0xD9), Just(0xDA), Just(0), any::<u8>()],
                0..2000,
            ),
            chunks in prop::collection::vec(1usize..64, 1..10),
        ) {
            for frame in split_all(&stream, &chunks, 300) {
                prop_assert!(frame.len() <= 300);
                prop_assert_eq!(&frame[..2], &[0xFF, 0xD8]);
                prop_assert_eq!(&frame[frame.len() - 2..], &[0xFF, 0xD9]);
            }
        }
    }
}
