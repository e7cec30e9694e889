//! Binary result messages: parse, walk every record, and re-encode what was decoded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::wire::ResultView;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = ResultView::parse(data) {
        let message = view.to_message();
        assert_eq!(view.poses().count(), view.pose_count());
        // The owned copy re-encodes into a canonical message that decodes to the same values
        // (bitwise: NaN payloads survive since floats are copied, not computed).
        let bytes = message.to_bytes().unwrap();
        let again = ResultView::parse(&bytes).unwrap().to_message();
        assert_eq!(format!("{again:?}"), format!("{message:?}"));
    }
});
