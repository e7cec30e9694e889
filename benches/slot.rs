//! `LatestSlot`: put + take uncontended, put displacing, and a producer/consumer pair.

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use livepose_core::LatestSlot;

fn main() {
    let mut c = support::criterion();
    let mut g = c.benchmark_group("slot");
    let slot = LatestSlot::new();
    g.bench_function("put_take", |b| {
        b.iter(|| {
            slot.put(black_box(1u64)).unwrap();
            slot.take()
        })
    });
    g.bench_function("put_displace", |b| {
        b.iter(|| slot.put(black_box(2u64)).unwrap())
    });
    // A frame-sized item moves without copying its buffer: only the pointer changes hands.
    let slot_frames: LatestSlot<Vec<u8>> = LatestSlot::new();
    let mut spare = Some(vec![0u8; 60_000]);
    g.bench_function("put_take_60KB_frame", |b| {
        b.iter(|| {
            let frame = spare.take().unwrap_or_default();
            if let Some(displaced) = slot_frames.put(frame).unwrap() {
                spare = Some(displaced);
            }
            spare = slot_frames.take();
        })
    });
    g.finish();

    // Cross-thread hand-off: a producer thread puts as fast as it can, this thread waits.
    let shared = Arc::new(LatestSlot::new());
    let producer = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let mut i = 0u64;
            while shared.put(i).is_ok() {
                i += 1;
            }
        })
    };
    c.bench_function("slot/cross_thread_wait", |b| {
        b.iter(|| shared.wait_timeout(Duration::from_secs(1)).item())
    });
    shared.close();
    producer.join().unwrap();
    c.final_summary();
    println!(
        "\nslot counters after the cross-thread run: {:?}",
        shared.counters()
    );
}
