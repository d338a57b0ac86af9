//! The thread check of `spawn_local`: a future wrapper that refuses to be polled or dropped on
//! a thread other than the one that spawned it (a future that cannot be dropped on its own
//! thread is leaked, never dropped elsewhere).

use core::future::Future;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::thread::{self, ThreadId};

/// A future pinned to the thread that created it.
pub(crate) struct Checked<F> {
    thread: ThreadId,
    inner: ManuallyDrop<F>,
}

impl<F> Checked<F> {
    pub(crate) fn new(thread: ThreadId, inner: F) -> Self {
        Self {
            thread,
            inner: ManuallyDrop::new(inner),
        }
    }

    fn check(&self, what: &str) {
        assert!(
            thread::current().id() == self.thread,
            "local task {what} by a thread that did not spawn it"
        );
    }
}

impl<F> Drop for Checked<F> {
    fn drop(&mut self) {
        if thread::current().id() != self.thread {
            // Dropping a `!Send` future here would be unsound: leak it instead. Panic unless
            // we are already unwinding (a failed poll check closes the task, and its cleanup
            // drops the future: a second panic would abort the process).
            if !thread::panicking() {
                panic!("local task dropped by a thread that did not spawn it");
            }
            return;
        }
        // SAFETY: dropped once, here, on the spawning thread.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl<F: Future> Future for Checked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.check("polled");
        // SAFETY: structural pinning: `inner` is never moved out (only dropped in place).
        let inner = unsafe { self.map_unchecked_mut(|c| &mut *c.inner) };
        inner.poll(cx)
    }
}
