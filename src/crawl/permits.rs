//! The crawl's bound on requests in flight, with two queues: a call whose rate-limit bucket is
//! saturated ([`Turn::Crowded`](super::limits::Turn)) takes the next free permit before calls
//! that are not. Without that, the one crowded (service, account, region) of a large
//! organization — the account with thousands of functions, whose calls set the crawl's length —
//! would wait behind the requests of every other account, fall behind its own rate, and then
//! send its delayed calls together, above the rate the service allows.
//!
//! Written here rather than taken from a crate: tokio's `Semaphore` is first come first served
//! only, and the handful of lines below (a counter and two queues of one-shot channels) is what
//! a priority is. Within a queue, permits go in arrival order.

use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// Which queue a waiting call joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A call of a saturated bucket: served first.
    First,
    /// Everything else.
    Normal,
}

#[derive(Debug, Default)]
struct State {
    free: usize,
    first: VecDeque<oneshot::Sender<()>>,
    normal: VecDeque<oneshot::Sender<()>>,
}

/// A fixed number of permits handed out by priority, then in arrival order.
#[derive(Debug)]
pub struct Permits {
    state: Mutex<State>,
}

/// A permit, given back when dropped.
#[derive(Debug)]
pub struct Permit<'a> {
    permits: &'a Permits,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.permits.release();
    }
}

/// A queued request for a permit; if it is dropped after a permit was handed to it but before it
/// was taken, the permit is given back.
struct Pending<'a> {
    permits: &'a Permits,
    receiver: Option<oneshot::Receiver<()>>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(mut receiver) = self.receiver.take() {
            receiver.close();
            if receiver.try_recv().is_ok() {
                self.permits.release();
            }
        }
    }
}

impl Permits {
    pub fn new(permits: usize) -> Self {
        Permits {
            state: Mutex::new(State {
                free: permits.max(1),
                ..State::default()
            }),
        }
    }

    /// Waits for a permit.
    pub async fn acquire(&self, priority: Priority) -> Permit<'_> {
        let receiver = {
            let Ok(mut state) = self.state.lock() else {
                // A poisoned lock (a panic elsewhere): do not bound rather than hang.
                return Permit { permits: self };
            };
            if state.free > 0 {
                state.free -= 1;
                return Permit { permits: self };
            }
            let (sender, receiver) = oneshot::channel();
            match priority {
                Priority::First => state.first.push_back(sender),
                Priority::Normal => state.normal.push_back(sender),
            }
            receiver
        };
        let mut pending = Pending {
            permits: self,
            receiver: Some(receiver),
        };
        if let Some(receiver) = pending.receiver.as_mut() {
            // The sender is only dropped unsent when the whole `Permits` is, which cannot happen
            // while `self` is borrowed; either way the call goes on.
            let _ = receiver.await;
        }
        pending.receiver = None;
        Permit { permits: self }
    }

    /// Hands a permit to the first live waiter of the first queue, else of the normal queue,
    /// else makes it free.
    fn release(&self) {
        let Ok(mut state) = self.state.lock() else { return };
        loop {
            let next = match state.first.pop_front() {
                Some(s) => Some(s),
                None => state.normal.pop_front(),
            };
            match next {
                // A waiter that went away does not take the permit: try the next one.
                Some(sender) => {
                    if sender.send(()).is_ok() {
                        return;
                    }
                }
                None => {
                    state.free += 1;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::FutureExt;
    use std::pin::pin;

    #[tokio::test]
    async fn crowded_calls_get_the_next_permit_then_arrival_order() {
        let permits = Permits::new(1);
        let held = permits.acquire(Priority::Normal).now_or_never().unwrap();
        let mut a = pin!(permits.acquire(Priority::Normal));
        let mut b = pin!(permits.acquire(Priority::Normal));
        let mut first = pin!(permits.acquire(Priority::First));
        // Each joins its queue on its first poll, in this order: a, b, then the crowded one.
        assert!(futures::poll!(a.as_mut()).is_pending());
        assert!(futures::poll!(b.as_mut()).is_pending());
        assert!(futures::poll!(first.as_mut()).is_pending());
        drop(held);
        assert!(futures::poll!(a.as_mut()).is_pending());
        assert!(futures::poll!(b.as_mut()).is_pending());
        let futures::task::Poll::Ready(p) = futures::poll!(first.as_mut()) else {
            panic!("the crowded call is served first")
        };
        drop(p);
        assert!(futures::poll!(b.as_mut()).is_pending(), "b came after a");
        let futures::task::Poll::Ready(p) = futures::poll!(a.as_mut()) else {
            panic!("then the first normal call")
        };
        drop(p);
        assert!(futures::poll!(b.as_mut()).is_ready());
    }

    #[tokio::test]
    async fn a_waiter_that_goes_away_does_not_keep_a_permit() {
        let permits = Permits::new(1);
        let held = permits.acquire(Priority::Normal).now_or_never().unwrap();
        {
            // Queued, then dropped before the permit comes: skipped on release.
            let mut gone = pin!(permits.acquire(Priority::First));
            assert!(futures::poll!(gone.as_mut()).is_pending());
        }
        let mut later = pin!(permits.acquire(Priority::Normal));
        assert!(futures::poll!(later.as_mut()).is_pending());
        drop(held);
        let futures::task::Poll::Ready(p) = futures::poll!(later.as_mut()) else {
            panic!("the permit went to the live waiter")
        };
        {
            // Handed a permit, then dropped before taking it: the permit comes back.
            let mut handed = pin!(permits.acquire(Priority::Normal));
            assert!(futures::poll!(handed.as_mut()).is_pending());
            drop(p);
        }
        assert!(permits.acquire(Priority::Normal).now_or_never().is_some());
    }

    #[test]
    fn permits_are_bounded() {
        let permits = Permits::new(2);
        let a = permits.acquire(Priority::Normal).now_or_never();
        let b = permits.acquire(Priority::First).now_or_never();
        assert!(a.is_some() && b.is_some());
        assert!(permits.acquire(Priority::First).now_or_never().is_none());
        drop(a);
        assert!(permits.acquire(Priority::Normal).now_or_never().is_some());
    }
}
