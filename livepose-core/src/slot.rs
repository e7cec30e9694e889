//! [`LatestSlot`]: a capacity-one, latest-wins hand-off.
//!
//! A producer [`put`](LatestSlot::put)s items; if the consumer has not taken the previous one
//! yet, it is displaced (returned to the producer and counted as dropped), never queued. The
//! consumer always gets the newest item: [`take`](LatestSlot::take) without waiting,
//! [`wait_timeout`](LatestSlot::wait_timeout) blocking a thread, or [`wait`](LatestSlot::wait)
//! as a future (works with tokio or any executor). [`close`](LatestSlot::close) wakes every
//! waiter and makes further puts fail.
//!
//! All state sits behind one mutex, so puts and takes are linearisable: no lost wake-ups, and
//! a consumer never sees an older item after a newer one.
//!
//! ```
//! use livepose_core::LatestSlot;
//! use std::time::Duration;
//!
//! let slot = LatestSlot::new();
//! assert_eq!(slot.put(1).unwrap(), None);
//! assert_eq!(slot.put(2).unwrap(), Some(1)); // 1 was never consumed: dropped
//! assert_eq!(slot.wait_timeout(Duration::from_millis(10)).item(), Some(2));
//! slot.close();
//! assert!(slot.put(3).is_err());
//! assert_eq!(slot.counters().dropped, 1);
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Returned by [`LatestSlot::put`] after [`LatestSlot::close`]; gives the item back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the slot is closed")]
pub struct SlotClosed<T>(pub T);

/// Counters of a [`LatestSlot`] since it was made.
///
/// Invariant: `puts == taken + dropped + (1 if an item is waiting else 0)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotCounters {
    /// Items accepted by `put`.
    pub puts: u64,
    /// Items handed to a consumer.
    pub taken: u64,
    /// Items displaced by a newer one before any consumer took them.
    pub dropped: u64,
}

/// What a blocking wait ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome<T> {
    /// The newest item.
    Item(T),
    /// No item arrived before the timeout.
    TimedOut,
    /// The slot is closed and empty.
    Closed,
}

impl<T> WaitOutcome<T> {
    /// The item, if the wait got one.
    pub fn item(self) -> Option<T> {
        match self {
            WaitOutcome::Item(item) => Some(item),
            WaitOutcome::TimedOut | WaitOutcome::Closed => None,
        }
    }
}

struct State<T> {
    item: Option<T>,
    closed: bool,
    counters: SlotCounters,
    /// Async waiters, keyed by the id of their [`Wait`] future.
    wakers: Vec<(u64, Waker)>,
    /// Threads blocked in `wait_timeout` (the condition variable is only signalled when
    /// there are some: a futex wake is a system call).
    blocked: usize,
    next_waiter_id: u64,
}

/// A capacity-one slot where the newest item wins. See the [module docs](self).
pub struct LatestSlot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

impl<T> Default for LatestSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for LatestSlot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("LatestSlot")
            .field("occupied", &state.item.is_some())
            .field("closed", &state.closed)
            .field("counters", &state.counters)
            .finish()
    }
}

impl<T> LatestSlot<T> {
    /// An empty, open slot.
    pub fn new() -> Self {
        LatestSlot {
            state: Mutex::new(State {
                item: None,
                closed: false,
                counters: SlotCounters::default(),
                wakers: Vec::new(),
                blocked: 0,
                next_waiter_id: 0,
            }),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code path panics while holding the lock, but a panic in a caller's thread must
        // not make the slot unusable for the others.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `item` as the newest one and wakes the consumers.
    ///
    /// Returns the item it displaced (never consumed, now counted as dropped), or
    /// [`SlotClosed`] with `item` after [`close`](Self::close).
    pub fn put(&self, item: T) -> Result<Option<T>, SlotClosed<T>> {
        let mut state = self.lock();
        if state.closed {
            return Err(SlotClosed(item));
        }
        state.counters.puts += 1;
        let displaced = state.item.replace(item);
        if displaced.is_some() {
            state.counters.dropped += 1;
        }
        self.wake_all(state);
        Ok(displaced)
    }

    /// Takes the newest item, if any, without waiting. Works after `close` too, so the last
    /// item is not lost.
    pub fn take(&self) -> Option<T> {
        let mut state = self.lock();
        Self::take_locked(&mut state)
    }

    fn take_locked(state: &mut State<T>) -> Option<T> {
        let item = state.item.take();
        if item.is_some() {
            state.counters.taken += 1;
        }
        item
    }

    /// Blocks the calling thread until an item is there, the slot is closed, or `timeout`
    /// passes.
    pub fn wait_timeout(&self, timeout: Duration) -> WaitOutcome<T> {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.lock();
        loop {
            if let Some(item) = Self::take_locked(&mut state) {
                return WaitOutcome::Item(item);
            }
            if state.closed {
                return WaitOutcome::Closed;
            }
            let remaining = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => remaining,
                    _ => return WaitOutcome::TimedOut,
                },
                // A timeout too large to represent: wait in long steps.
                None => Duration::from_secs(3600),
            };
            state.blocked += 1;
            state = self
                .ready
                .wait_timeout(state, remaining)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
            state.blocked -= 1;
        }
    }

    /// Waits asynchronously for the newest item; resolves to `None` once the slot is closed
    /// and empty. Cancel-safe: dropping the future loses no item.
    pub fn wait(&self) -> Wait<'_, T> {
        Wait {
            slot: self,
            id: None,
        }
    }

    /// Closes the slot: wakes every waiter, and every later `put` fails. An item already in
    /// the slot can still be taken.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        self.wake_all(state);
    }

    /// Wakes every async and blocked waiter, then releases the lock.
    fn wake_all(&self, mut state: MutexGuard<'_, State<T>>) {
        for (_, waker) in state.wakers.drain(..) {
            waker.wake();
        }
        let blocked = state.blocked > 0;
        drop(state);
        if blocked {
            self.ready.notify_all();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// The counters so far.
    pub fn counters(&self) -> SlotCounters {
        self.lock().counters
    }
}

/// The future returned by [`LatestSlot::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a, T> {
    slot: &'a LatestSlot<T>,
    /// Our registration in the slot's waker list, once we have polled `Pending`.
    id: Option<u64>,
}

impl<T> Future for Wait<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let mut state = this.slot.lock();
        if let Some(item) = LatestSlot::take_locked(&mut state) {
            unregister(&mut state, this.id.take());
            return Poll::Ready(Some(item));
        }
        if state.closed {
            unregister(&mut state, this.id.take());
            return Poll::Ready(None);
        }
        let id = match this.id {
            Some(id) => id,
            None => {
                let id = state.next_waiter_id;
                state.next_waiter_id += 1;
                this.id = Some(id);
                id
            }
        };
        match state.wakers.iter_mut().find(|(wid, _)| *wid == id) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => state.wakers.push((id, cx.waker().clone())),
        }
        Poll::Pending
    }
}

fn unregister<T>(state: &mut State<T>, id: Option<u64>) {
    if let Some(id) = id {
        state.wakers.retain(|(wid, _)| *wid != id);
    }
}

impl<T> Drop for Wait<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let mut state = self.slot.lock();
            unregister(&mut state, Some(id));
            // We may have been woken for an item we will now never take: pass the wake-up
            // on so another waiter gets it.
            if state.item.is_some() {
                self.slot.wake_all(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn put_displaces_and_counts() {
        let slot = LatestSlot::new();
        assert_eq!(slot.take(), None);
        assert_eq!(slot.put("a").unwrap(), None);
        assert_eq!(slot.put("b").unwrap(), Some("a"));
        assert_eq!(slot.take(), Some("b"));
        assert_eq!(slot.take(), None);
        assert_eq!(
            slot.counters(),
            SlotCounters {
                puts: 2,
                taken: 1,
                dropped: 1
            }
        );
    }

    #[test]
    fn close_rejects_puts_but_keeps_last_item() {
        let slot = LatestSlot::new();
        slot.put(1).unwrap();
        slot.close();
        assert!(slot.is_closed());
        assert_eq!(slot.put(2), Err(SlotClosed(2)));
        assert_eq!(slot.wait_timeout(Duration::ZERO), WaitOutcome::Item(1));
        assert_eq!(slot.wait_timeout(Duration::ZERO), WaitOutcome::Closed);
    }

    #[test]
    fn wait_timeout_times_out_when_empty() {
        let slot: LatestSlot<u8> = LatestSlot::new();
        assert_eq!(
            slot.wait_timeout(Duration::from_millis(1)),
            WaitOutcome::TimedOut
        );
    }

    #[test]
    fn blocking_waiter_is_woken_by_put_and_close() {
        let slot = Arc::new(LatestSlot::new());
        let waiter = {
            let slot = slot.clone();
            std::thread::spawn(move || {
                (
                    slot.wait_timeout(Duration::from_secs(30)),
                    slot.wait_timeout(Duration::from_secs(30)),
                )
            })
        };
        slot.put(7).unwrap();
        // The second wait ends with close, not with the 30 s timeout.
        while slot.counters().taken == 0 {
            std::thread::yield_now();
        }
        slot.close();
        let (first, second) = waiter.join().unwrap();
        assert_eq!(first, WaitOutcome::Item(7));
        assert_eq!(second, WaitOutcome::Closed);
    }

    #[tokio::test]
    async fn async_wait_gets_item_and_sees_close() {
        let slot = Arc::new(LatestSlot::new());
        let consumer = {
            let slot = slot.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(item) = slot.wait().await {
                    got.push(item);
                }
                got
            })
        };
        for i in 0..100 {
            slot.put(i).unwrap();
            tokio::task::yield_now().await;
        }
        slot.close();
        let got = consumer.await.unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "order kept: {got:?}");
        let counters = slot.counters();
        assert_eq!(counters.taken as usize, got.len());
        assert_eq!(counters.taken + counters.dropped, 100);
    }

    #[tokio::test]
    async fn dropped_wait_future_unregisters() {
        let slot: LatestSlot<u32> = LatestSlot::new();
        {
            let mut fut = std::pin::pin!(slot.wait());
            let waker = std::task::Waker::noop();
            let mut cx = Context::from_waker(waker);
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert_eq!(slot.lock().wakers.len(), 1, "re-poll updates, not appends");
        }
        assert!(slot.lock().wakers.is_empty());
        slot.put(1).unwrap();
        assert_eq!(slot.wait().await, Some(1));
    }
}
