//! The per-thread waker of the blocking receive: it unparks the thread that made it.
//!
//! It is made once per thread (one small allocation for the thread's lifetime) and cloned into the
//! hatch when a blocking receive parks, which only bumps a reference count: a reused hatch
//! allocates nothing per message.

use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::{self, Thread};

/// Unparks one thread.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

std::thread_local! {
    static WAKER: Waker = Waker::from(Arc::new(Unparker(thread::current())));
}

/// The calling thread's unparking waker (a fresh one if the thread-local is already destroyed,
/// as in another thread-local's destructor).
pub(crate) fn thread_waker() -> Waker {
    WAKER
        .try_with(Waker::clone)
        .unwrap_or_else(|_| Waker::from(Arc::new(Unparker(thread::current()))))
}
