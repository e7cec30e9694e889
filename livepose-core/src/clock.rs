//! [`MonotonicClock`]: strictly increasing microsecond timestamps.
//!
//! Every call to [`MonotonicClock::now`] returns a value greater than every value returned
//! before it, from any thread: equal readings of the underlying monotonic source are bumped by
//! one microsecond. This is what inference pipelines that demand strictly increasing
//! timestamps (MediaPipe's LIVE_STREAM mode among them) need, whatever the client sends.
//!
//! The source of time is a [`TimeSource`]: [`SystemTimeSource`] in production,
//! [`ManualTimeSource`] in tests, so nothing here needs to sleep to be tested.
//!
//! ```
//! use livepose_core::clock::{ManualTimeSource, MonotonicClock};
//!
//! let source = ManualTimeSource::new(1_000, 1_700_000_000_000_000);
//! let clock = MonotonicClock::new(source.clone());
//! let a = clock.now();
//! let b = clock.now(); // the source has not moved: still strictly later
//! assert!(b > a);
//! source.advance_us(500);
//! assert_eq!(clock.now().as_micros(), 1_500);
//! assert_eq!(clock.to_wall_us(a), 1_700_000_000_000_000);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A point on a clock's monotonic timeline, in microseconds from an arbitrary origin.
///
/// Only comparable with timestamps of the same clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp `us` microseconds after the clock's origin.
    pub const fn from_micros(us: u64) -> Self {
        Timestamp(us)
    }

    /// Microseconds since the clock's origin.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Microseconds from `earlier` to `self`, or `None` if `earlier` is not earlier.
    pub fn micros_since(self, earlier: Timestamp) -> Option<u64> {
        self.0.checked_sub(earlier.0).filter(|d| *d > 0)
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        (self.0 as f64 - earlier.0 as f64) * 1e-6
    }
}

/// Where a [`MonotonicClock`] reads time from.
pub trait TimeSource: Send + Sync {
    /// A reading of a monotonic clock, in microseconds from an arbitrary origin. Must never
    /// go backwards.
    fn monotonic_us(&self) -> u64;
    /// Wall-clock time, in microseconds since the Unix epoch (may jump).
    fn wall_us(&self) -> u64;
}

/// The operating system's clocks: [`Instant`] for monotonic time, [`SystemTime`] for wall time.
#[derive(Debug, Clone, Copy)]
pub struct SystemTimeSource {
    origin: Instant,
}

impl Default for SystemTimeSource {
    fn default() -> Self {
        SystemTimeSource {
            origin: Instant::now(),
        }
    }
}

impl TimeSource for SystemTimeSource {
    fn monotonic_us(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn wall_us(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A hand-driven time source for deterministic tests. Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualTimeSource {
    monotonic: Arc<AtomicU64>,
    wall: Arc<AtomicU64>,
}

impl ManualTimeSource {
    /// A source reading `monotonic_us` on the monotonic timeline and `wall_us` on the wall clock.
    pub fn new(monotonic_us: u64, wall_us: u64) -> Self {
        ManualTimeSource {
            monotonic: Arc::new(AtomicU64::new(monotonic_us)),
            wall: Arc::new(AtomicU64::new(wall_us)),
        }
    }

    /// Moves both clocks forward by `us` microseconds.
    pub fn advance_us(&self, us: u64) {
        self.monotonic.fetch_add(us, Ordering::SeqCst);
        self.wall.fetch_add(us, Ordering::SeqCst);
    }

    /// Sets the wall clock alone (as NTP or a user would), leaving monotonic time alone.
    pub fn set_wall_us(&self, wall_us: u64) {
        self.wall.store(wall_us, Ordering::SeqCst);
    }
}

impl TimeSource for ManualTimeSource {
    fn monotonic_us(&self) -> u64 {
        self.monotonic.load(Ordering::SeqCst)
    }

    fn wall_us(&self) -> u64 {
        self.wall.load(Ordering::SeqCst)
    }
}

/// Any [`TimeSource`] behind one type, cheap to clone (clones read the same source): what
/// a component that is handed its time source keeps, e.g. the pipeline's
/// `Tracker` and `PipelineBuilder::time_source` (in `inference`).
#[derive(Clone)]
pub struct SharedTimeSource(Arc<dyn TimeSource>);

impl SharedTimeSource {
    /// Wraps `source`.
    pub fn new(source: impl TimeSource + 'static) -> Self {
        SharedTimeSource(Arc::new(source))
    }

    /// The operating system's clocks, with their origin now (a [`SystemTimeSource`]).
    pub fn system() -> Self {
        Self::new(SystemTimeSource::default())
    }
}

impl std::fmt::Debug for SharedTimeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedTimeSource(..)")
    }
}

impl TimeSource for SharedTimeSource {
    fn monotonic_us(&self) -> u64 {
        self.0.monotonic_us()
    }

    fn wall_us(&self) -> u64 {
        self.0.wall_us()
    }
}

/// Strictly increasing microsecond timestamps from a monotonic [`TimeSource`], shareable
/// across threads (`&self` everywhere). See the [module docs](self).
#[derive(Debug)]
pub struct MonotonicClock<S: TimeSource = SystemTimeSource> {
    source: S,
    /// The smallest value the next timestamp may take.
    next_min: AtomicU64,
    /// Wall-clock reading paired with `origin_mono`, taken once at construction, so that
    /// wall-clock conversion is stable even if the wall clock later jumps.
    origin_wall: u64,
    origin_mono: u64,
}

impl MonotonicClock<SystemTimeSource> {
    /// A clock on the operating system's monotonic clock.
    pub fn system() -> Self {
        Self::new(SystemTimeSource::default())
    }
}

impl Default for MonotonicClock<SystemTimeSource> {
    fn default() -> Self {
        Self::system()
    }
}

impl<S: TimeSource> MonotonicClock<S> {
    /// A clock reading `source`.
    pub fn new(source: S) -> Self {
        let origin_mono = source.monotonic_us();
        let origin_wall = source.wall_us();
        MonotonicClock {
            source,
            next_min: AtomicU64::new(0),
            origin_wall,
            origin_mono,
        }
    }

    /// The current time, strictly later than every timestamp this clock returned before.
    pub fn now(&self) -> Timestamp {
        let reading = self.source.monotonic_us();
        self.after(reading)
    }

    /// The smallest timestamp that is both `>= reading` and strictly later than every
    /// timestamp this clock returned before; records it as returned.
    fn after(&self, reading: u64) -> Timestamp {
        let mut next_min = self.next_min.load(Ordering::Relaxed);
        loop {
            let ts = reading.max(next_min);
            match self.next_min.compare_exchange_weak(
                next_min,
                ts.saturating_add(1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Timestamp(ts),
                Err(actual) => next_min = actual,
            }
        }
    }

    /// Orders a caller-supplied timestamp on this clock's timeline: returns `ts` itself when it
    /// is later than everything issued so far, else the next free timestamp. The `bool` says
    /// whether the value had to be adjusted.
    ///
    /// ```
    /// use livepose_core::clock::{ManualTimeSource, MonotonicClock};
    /// use livepose_core::Timestamp;
    ///
    /// let clock = MonotonicClock::new(ManualTimeSource::new(0, 0));
    /// assert_eq!(clock.order(Timestamp::from_micros(100)), (Timestamp::from_micros(100), false));
    /// // A repeated (or older) caller timestamp is moved just after the last one.
    /// assert_eq!(clock.order(Timestamp::from_micros(100)), (Timestamp::from_micros(101), true));
    /// ```
    pub fn order(&self, ts: Timestamp) -> (Timestamp, bool) {
        let ordered = self.after(ts.0);
        (ordered, ordered != ts)
    }

    /// Converts a timestamp of this clock to wall-clock microseconds since the Unix epoch, for
    /// the wire (`server_*_us` fields).
    pub fn to_wall_us(&self, ts: Timestamp) -> u64 {
        let offset = ts.0 as i128 - self.origin_mono as i128;
        (self.origin_wall as i128 + offset).clamp(0, u64::MAX as i128) as u64
    }

    /// The current wall-clock time in microseconds since the Unix epoch, consistent with
    /// [`to_wall_us`](Self::to_wall_us) of [`now`](Self::now).
    pub fn now_wall_us(&self) -> u64 {
        self.to_wall_us(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn strictly_increasing_on_a_frozen_source() {
        let clock = MonotonicClock::new(ManualTimeSource::new(10, 0));
        let stamps: Vec<_> = (0..1000).map(|_| clock.now().as_micros()).collect();
        assert_eq!(stamps[0], 10);
        assert!(stamps.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn follows_the_source_when_it_moves() {
        let source = ManualTimeSource::new(0, 5_000_000);
        let clock = MonotonicClock::new(source.clone());
        assert_eq!(clock.now().as_micros(), 0);
        source.advance_us(1_000);
        let t = clock.now();
        assert_eq!(t.as_micros(), 1_000);
        assert_eq!(clock.to_wall_us(t), 5_001_000);
    }

    #[test]
    fn wall_conversion_ignores_later_wall_jumps() {
        let source = ManualTimeSource::new(100, 1_000_000);
        let clock = MonotonicClock::new(source.clone());
        source.set_wall_us(42); // someone set the system clock back
        source.advance_us(10);
        assert_eq!(clock.now_wall_us(), 1_000_010);
    }

    #[test]
    fn unique_across_threads_on_the_system_clock() {
        let clock = std::sync::Arc::new(MonotonicClock::system());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let clock = clock.clone();
                std::thread::spawn(move || {
                    let stamps: Vec<u64> = (0..20_000).map(|_| clock.now().as_micros()).collect();
                    assert!(stamps.windows(2).all(|w| w[1] > w[0]));
                    stamps
                })
            })
            .collect();
        let mut all = HashSet::new();
        for handle in handles {
            for stamp in handle.join().unwrap() {
                assert!(all.insert(stamp), "duplicate timestamp {stamp}");
            }
        }
        assert_eq!(all.len(), 80_000);
    }

    #[test]
    fn order_adjusts_only_non_increasing_timestamps() {
        let clock = MonotonicClock::new(ManualTimeSource::new(0, 0));
        let ts = Timestamp::from_micros;
        assert_eq!(clock.order(ts(50)), (ts(50), false));
        assert_eq!(clock.order(ts(40)), (ts(51), true));
        assert_eq!(clock.order(ts(60)), (ts(60), false));
        assert_eq!(clock.now(), ts(61));
    }

    #[test]
    fn timestamp_arithmetic() {
        let a = Timestamp::from_micros(1_000);
        let b = Timestamp::from_micros(3_500);
        assert_eq!(b.micros_since(a), Some(2_500));
        assert_eq!(a.micros_since(b), None);
        assert_eq!(a.micros_since(a), None);
        assert!((b.seconds_since(a) - 0.0025).abs() < 1e-12);
    }
}
