//! [`AccessUnitSplitter`]: an H.264 Annex B byte stream, as ffmpeg writes it (`-c:v copy
//! -f h264`), cut into access units, one per frame message.

use super::annexb::NalType;

/// Cuts an Annex B byte stream that arrives in pieces into access units (H.264 §7.4.1.2.3):
/// a new one starts at an access unit delimiter, SPS, PPS or SEI that follows a slice, or
/// at a slice that starts a new picture (its `first_mb_in_slice` is 0) after a slice. An
/// access unit is given out once the next one starts (or at [`finish`](Self::finish)).
/// An access unit that grows past `max_len` bytes is dropped whole, so memory stays bounded
/// whatever the input.
///
/// ```
/// use livepose_core::video::AccessUnitSplitter;
///
/// let mut split = AccessUnitSplitter::new(1 << 20);
/// // SPS, PPS and an IDR slice; then a P slice: two access units.
/// split.push(&[0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88]);
/// split.push(&[0, 0, 0, 1, 0x41, 0x9a, 0x01]);
/// assert_eq!(split.next_access_unit().unwrap(), [0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88]);
/// assert!(split.next_access_unit().is_none());
/// assert_eq!(split.finish().unwrap(), [0, 0, 0, 1, 0x41, 0x9a, 0x01]);
/// ```
#[derive(Debug)]
pub struct AccessUnitSplitter {
    max_len: usize,
    /// Bytes not yet given out: the access unit being gathered, then what follows.
    buffer: Vec<u8>,
    /// How far `buffer` has been scanned for start codes.
    scanned: usize,
    /// Where the current access unit's NAL units start in `buffer`, and where the last NAL
    /// unit seen starts.
    nal_starts: Vec<usize>,
    /// The current access unit holds a slice.
    has_slice: bool,
    /// Access units ready, oldest first.
    ready: std::collections::VecDeque<Vec<u8>>,
    /// Access units dropped for being over `max_len`.
    dropped: u64,
    /// Dropping bytes until the next access unit starts.
    discarding: bool,
}

impl AccessUnitSplitter {
    /// A splitter whose access units are at most `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        AccessUnitSplitter {
            max_len,
            buffer: Vec::new(),
            scanned: 0,
            nal_starts: Vec::new(),
            has_slice: false,
            ready: Default::default(),
            dropped: 0,
            discarding: false,
        }
    }

    /// Access units dropped so far for being over the limit.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bytes held (the access unit being gathered and what follows it).
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Adds bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        self.scan();
    }

    /// The oldest complete access unit, if any.
    pub fn next_access_unit(&mut self) -> Option<Vec<u8>> {
        self.ready.pop_front()
    }

    /// The end of the stream: the access unit being gathered, if it holds a slice.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        if let Some(unit) = self.ready.pop_front() {
            return Some(unit);
        }
        let start = *self.nal_starts.first()?;
        let unit = (self.has_slice && !self.discarding).then(|| self.buffer[start..].to_vec());
        self.buffer.clear();
        self.scanned = 0;
        self.nal_starts.clear();
        self.has_slice = false;
        self.discarding = false;
        unit
    }

    fn scan(&mut self) {
        // A start code is `00 00 01`; the zero before it of a four-byte one belongs to it.
        // The header byte and the one after it (first_mb_in_slice) must have arrived.
        while self.scanned + 5 <= self.buffer.len() {
            let i = self.scanned;
            if self.buffer[i] == 0 && self.buffer[i + 1] == 0 && self.buffer[i + 2] == 1 {
                let start = if i > 0 && self.buffer[i - 1] == 0 {
                    i - 1
                } else {
                    i
                };
                let removed = self.on_nal(start, i + 3);
                self.scanned = i + 3 - removed;
            } else {
                self.scanned += 1;
            }
        }
        self.enforce_limit();
    }

    /// A NAL unit starts at `start` (its start code), its header byte at `header`. Returns
    /// the bytes removed from the front of the buffer.
    fn on_nal(&mut self, start: usize, header: usize) -> usize {
        let byte = self.buffer[header];
        let nal_type = NalType(byte & 0x1f);
        let new_picture_slice = nal_type.is_slice() && self.buffer[header + 1] & 0x80 != 0;
        let starts_unit = self.has_slice
            && (new_picture_slice
                || matches!(
                    nal_type,
                    NalType::AUD | NalType::SPS | NalType::PPS | NalType::SEI
                ));
        let mut removed = 0;
        if starts_unit {
            self.cut(start);
            removed = start;
        }
        if self.nal_starts.is_empty() {
            // Bytes before the first start code of a unit are not part of it.
            let garbage = start - removed;
            self.buffer.drain(..garbage);
            removed += garbage;
            self.nal_starts.push(0);
        } else {
            self.nal_starts.push(start - removed);
        }
        if nal_type.is_slice() {
            self.has_slice = true;
        }
        removed
    }

    /// The access unit being gathered ends before `at`.
    fn cut(&mut self, at: usize) {
        let unit: Vec<u8> = self.buffer.drain(..at).collect();
        if self.discarding {
            self.discarding = false;
        } else if unit.len() > self.max_len {
            self.dropped += 1;
        } else {
            self.ready.push_back(unit);
        }
        self.nal_starts.clear();
        self.has_slice = false;
    }

    fn enforce_limit(&mut self) {
        if self.buffer.len() <= self.max_len {
            return;
        }
        // The unit being gathered is too long: its bytes go, and the rest of it is
        // dropped as it comes, until the next access unit starts.
        if !self.discarding {
            self.dropped += 1;
        }
        self.discarding = true;
        let keep_from = self.scanned.saturating_sub(3);
        self.buffer.drain(..keep_from);
        self.scanned -= keep_from;
        self.nal_starts.clear();
        self.nal_starts.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::super::annexb::{scan_access_unit, write_annexb};
    use super::super::sps::tests::{sps_nal, SpsSpec};
    use super::*;
    use proptest::prelude::*;

    fn units(stream: &[u8], chunk: usize, max_len: usize) -> (Vec<Vec<u8>>, u64) {
        let mut split = AccessUnitSplitter::new(max_len);
        let mut out = Vec::new();
        for part in stream.chunks(chunk.max(1)) {
            split.push(part);
            while let Some(au) = split.next_access_unit() {
                out.push(au);
            }
            assert!(split.buffered() <= max_len + chunk.max(1) + 4);
        }
        out.extend(split.finish());
        (out, split.dropped())
    }

    #[test]
    fn cuts_at_parameter_sets_and_new_pictures() {
        let mut stream = Vec::new();
        let sps = sps_nal(SpsSpec::new(2, 2));
        let key: [&[u8]; 4] = [&[0x09, 0xf0], &sps, &[0x68, 0xce], &[0x65, 0x88, 0x81]];
        write_annexb(key, &mut stream);
        // A picture in two slices: the second has first_mb_in_slice > 0 (first bit 0).
        write_annexb(
            [&[0x41u8, 0x9a, 0x01][..], &[0x41, 0x4a, 0x01]],
            &mut stream,
        );
        write_annexb(
            [&[0x06u8, 0x05, 0x01][..], &[0x41, 0x9a, 0x02]],
            &mut stream,
        );
        for chunk in [1, 3, 7, 1000] {
            let (aus, dropped) = units(&stream, chunk, 1 << 16);
            assert_eq!(dropped, 0);
            assert_eq!(aus.len(), 3, "chunk {chunk}");
            assert!(scan_access_unit(&aus[0]).unwrap().keyframe);
            assert_eq!(scan_access_unit(&aus[1]).unwrap().nal_units, 2);
            assert_eq!(scan_access_unit(&aus[2]).unwrap().nal_units, 2);
            assert_eq!(aus.concat(), stream);
        }
    }

    #[test]
    fn an_access_unit_over_the_limit_is_dropped_whole() {
        let mut stream = Vec::new();
        let big = [vec![0x65u8, 0x88], vec![0x77; 500]].concat();
        write_annexb(
            [
                &[0x41u8, 0x9a][..],
                &big,
                &[0x41, 0x9a, 3],
                &[0x41, 0x9a, 4],
            ],
            &mut stream,
        );
        let (aus, dropped) = units(&stream, 16, 100);
        assert_eq!(dropped, 1);
        assert_eq!(aus.len(), 3);
        assert!(aus.iter().all(|au| au.len() < 100));
    }

    proptest! {
        #[test]
        fn any_bytes_any_chunks_stay_bounded(
            stream in proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(0x41u8), Just(0x65u8), Just(0x80u8), any::<u8>()], 0..2000),
            chunk in 1usize..64,
        ) {
            let (aus, _) = units(&stream, chunk, 256);
            for au in &aus {
                prop_assert!(au.len() <= 256 + 64);
            }
        }

        #[test]
        fn whole_streams_split_back_into_their_access_units(
            pictures in proptest::collection::vec((any::<bool>(), 1usize..4, proptest::collection::vec(1u8..=255, 1..30)), 1..10),
            chunk in 1usize..50,
        ) {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for (key, slices, body) in &pictures {
                let mut au = Vec::new();
                if *key {
                    write_annexb([&[0x67u8, 0x42][..], &[0x68, 0xce]], &mut au);
                }
                for s in 0..*slices {
                    // first_mb_in_slice 0 (first bit 1) for the first slice, else 1 (010).
                    let first = if s == 0 { 0x80 } else { 0x40 };
                    let unit = [&[if *key { 0x65 } else { 0x41 }, first][..], body].concat();
                    write_annexb([&unit[..]], &mut au);
                }
                stream.extend_from_slice(&au);
                expected.push(au);
            }
            let (aus, dropped) = units(&stream, chunk, 1 << 16);
            prop_assert_eq!(dropped, 0);
            prop_assert_eq!(aus, expected);
        }
    }
}
