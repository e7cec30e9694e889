//! Property tests of `LatestSlot` under real concurrency: producers and consumers on OS
//! threads (and tokio tasks), checking that every item is either taken exactly once or
//! counted as dropped, and that no consumer sees an older item after a newer one.

use std::collections::HashSet;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use livepose_core::slot::{LatestSlot, WaitOutcome};
use proptest::prelude::*;

/// An item: who made it and its number in that producer's sequence; `ticket` is a global
/// order, assigned under a lock together with the put, so "newer" is well defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Item {
    producer: usize,
    seq: usize,
    ticket: u64,
}

struct Outcome {
    taken: Vec<Vec<Item>>,
    displaced: Vec<Item>,
    left: Option<Item>,
}

fn run_threads(producers: usize, per_producer: usize, consumers: usize, ordered: bool) -> Outcome {
    let slot = Arc::new(LatestSlot::new());
    let ticket_lock = Arc::new(Mutex::new(0u64));
    let start = Arc::new(Barrier::new(producers + consumers));
    let consumer_handles: Vec<_> = (0..consumers)
        .map(|_| {
            let (slot, start) = (slot.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut seen = Vec::new();
                loop {
                    match slot.wait_timeout(Duration::from_secs(10)) {
                        WaitOutcome::Item(item) => seen.push(item),
                        WaitOutcome::Closed => return seen,
                        WaitOutcome::TimedOut => panic!("lost wake-up: no item or close in 10 s"),
                    }
                }
            })
        })
        .collect();
    let producer_handles: Vec<_> = (0..producers)
        .map(|producer| {
            let (slot, start, ticket_lock) = (slot.clone(), start.clone(), ticket_lock.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut displaced = Vec::new();
                for seq in 0..per_producer {
                    // With `ordered`, tickets and puts happen in one critical section, so the
                    // ticket order is the put order.
                    let mut guard = ordered.then(|| ticket_lock.lock().unwrap());
                    let ticket = guard.as_deref_mut().map_or(0, |t| {
                        *t += 1;
                        *t
                    });
                    let item = Item {
                        producer,
                        seq,
                        ticket,
                    };
                    if let Some(old) = slot.put(item).unwrap() {
                        displaced.push(old);
                    }
                    drop(guard);
                    if seq % 7 == 0 {
                        std::thread::yield_now();
                    }
                }
                displaced
            })
        })
        .collect();
    let displaced: Vec<Item> = producer_handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    // Let consumers drain the last item before closing (or leave it: both are legal).
    let left_before_close = slot.take();
    slot.close();
    let taken = consumer_handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let counters = slot.counters();
    assert_eq!(counters.puts as usize, producers * per_producer);
    assert_eq!(counters.dropped as usize, displaced.len());
    Outcome {
        taken,
        displaced,
        left: left_before_close,
    }
}

fn check_accounting(outcome: &Outcome, producers: usize, per_producer: usize) {
    let mut all = HashSet::new();
    let taken = outcome.taken.iter().flatten();
    for item in taken.chain(&outcome.displaced).chain(outcome.left.iter()) {
        assert!(
            all.insert((item.producer, item.seq)),
            "{item:?} accounted twice"
        );
    }
    assert_eq!(
        all.len(),
        producers * per_producer,
        "every item taken or dropped"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_item_taken_once_or_dropped(
        producers in 1usize..5,
        per_producer in 1usize..300,
        consumers in 1usize..4,
    ) {
        let outcome = run_threads(producers, per_producer, consumers, false);
        check_accounting(&outcome, producers, per_producer);
        // Per producer, each consumer sees that producer's items in order.
        for seen in &outcome.taken {
            for p in 0..producers {
                let seqs: Vec<_> = seen.iter().filter(|i| i.producer == p).map(|i| i.seq).collect();
                prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]), "producer {} out of order: {:?}", p, seqs);
            }
        }
    }

    #[test]
    fn never_older_after_newer(
        producers in 1usize..5,
        per_producer in 1usize..300,
        consumers in 1usize..4,
    ) {
        let outcome = run_threads(producers, per_producer, consumers, true);
        check_accounting(&outcome, producers, per_producer);
        for seen in &outcome.taken {
            let tickets: Vec<_> = seen.iter().map(|i| i.ticket).collect();
            prop_assert!(tickets.windows(2).all(|w| w[0] < w[1]), "older after newer: {:?}", tickets);
        }
        // Across consumers too: the tickets taken are all distinct.
        let mut all: Vec<_> = outcome.taken.iter().flatten().map(|i| i.ticket).collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        prop_assert_eq!(all.len(), n);
    }

    #[test]
    fn async_consumers_see_every_item_once_or_dropped(
        per_producer in 1usize..500,
        consumers in 1usize..4,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let slot = Arc::new(LatestSlot::new());
        let (taken, displaced) = runtime.block_on(async {
            let tasks: Vec<_> = (0..consumers)
                .map(|_| {
                    let slot = slot.clone();
                    tokio::spawn(async move {
                        let mut seen = Vec::new();
                        while let Some(i) = slot.wait().await {
                            seen.push(i);
                        }
                        seen
                    })
                })
                .collect();
            let producer = {
                let slot = slot.clone();
                std::thread::spawn(move || {
                    (0..per_producer)
                        .filter_map(|i| slot.put(i).unwrap())
                        .collect::<Vec<_>>()
                })
            };
            let displaced = producer.join().unwrap();
            // Wait until the last item is consumed, so close cannot strand a waiter's item.
            tokio::time::timeout(Duration::from_secs(10), async {
                while slot.counters().taken + slot.counters().dropped < per_producer as u64 {
                    tokio::task::yield_now().await;
                }
            })
            .await
            .expect("lost wake-up: the last item was never taken");
            slot.close();
            let mut taken = Vec::new();
            for task in tasks {
                let seen = task.await.unwrap();
                assert!(seen.windows(2).all(|w| w[0] < w[1]), "order: {seen:?}");
                taken.extend(seen);
            }
            (taken, displaced)
        });
        let mut all: Vec<_> = taken.iter().chain(&displaced).copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..per_producer).collect::<Vec<_>>());
    }
}
