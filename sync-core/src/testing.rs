//! Test helpers shared by the frugal crates' tests (feature `test-util`; not a public API).
//!
//! [`WakeCounter`] makes wakers that count their clones, drops and wakes, optionally forwarding
//! wakes to another waker (such as loom's `block_on` waker), and wakers whose `clone` panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{RawWaker, RawWakerVTable, Waker};

/// Counts of what happened to the wakers of one [`WakeCounter`].
#[derive(Debug, Default)]
struct Counts {
    clones: AtomicUsize,
    drops: AtomicUsize,
    wakes: AtomicUsize,
    created: AtomicUsize,
}

/// A factory of counting wakers.
#[derive(Debug, Clone, Default)]
pub struct WakeCounter {
    counts: Arc<Counts>,
}

struct Node {
    counts: Arc<Counts>,
    inner: Option<Waker>,
    panic_on_clone: bool,
}

impl WakeCounter {
    /// A new counter with every count at zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A counting waker that wakes nothing else.
    #[must_use]
    pub fn waker(&self) -> Waker {
        self.make(None, false)
    }

    /// A counting waker that forwards its wakes to `inner`.
    #[must_use]
    pub fn wrap(&self, inner: &Waker) -> Waker {
        self.make(Some(inner.clone()), false)
    }

    /// A counting waker whose `clone` panics (after counting the attempt).
    #[must_use]
    pub fn panicking_clone(&self) -> Waker {
        self.make(None, true)
    }

    fn make(&self, inner: Option<Waker>, panic_on_clone: bool) -> Waker {
        self.counts.created.fetch_add(1, SeqCst);
        let node = Arc::new(Node {
            counts: self.counts.clone(),
            inner,
            panic_on_clone,
        });
        let raw = RawWaker::new(Arc::into_raw(node).cast(), &VTABLE);
        // SAFETY: the vtable functions below uphold the RawWaker contract for an `Arc<Node>`;
        // clones share the node, so `will_wake` holds between a waker and its clones.
        unsafe { Waker::from_raw(raw) }
    }

    /// Wakes (`wake` and `wake_by_ref`) so far.
    #[must_use]
    pub fn wakes(&self) -> usize {
        self.counts.wakes.load(SeqCst)
    }

    /// Clones so far (including attempts that panicked).
    #[must_use]
    pub fn clones(&self) -> usize {
        self.counts.clones.load(SeqCst)
    }

    /// Drops so far (`wake` by value counts as a drop too).
    #[must_use]
    pub fn drops(&self) -> usize {
        self.counts.drops.load(SeqCst)
    }

    /// Wakers alive now: made plus cloned minus dropped.
    #[must_use]
    pub fn live(&self) -> usize {
        let made = self.counts.created.load(SeqCst) + self.counts.clones.load(SeqCst);
        made - self.counts.drops.load(SeqCst)
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// # Safety
/// `data` comes from `Arc::<Node>::into_raw` and owns one strong count.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: per the contract, `data` points to a live Node.
    let node = unsafe { &*data.cast::<Node>() };
    node.counts.clones.fetch_add(1, SeqCst);
    if node.panic_on_clone {
        // A failed clone creates nothing: count it as dropped so `live` stays exact.
        node.counts.drops.fetch_add(1, SeqCst);
        panic!("WakeCounter: this waker panics on clone");
    }
    // SAFETY: `data` is a live Arc<Node> pointer; the new count is owned by the new RawWaker.
    unsafe { Arc::increment_strong_count(data.cast::<Node>()) };
    RawWaker::new(data, &VTABLE)
}

/// # Safety
/// As `clone`; consumes the node.
unsafe fn wake(data: *const ()) {
    // SAFETY: per the contract, we own one strong count of the Arc<Node>.
    let node = unsafe { Arc::from_raw(data.cast::<Node>()) };
    node.counts.wakes.fetch_add(1, SeqCst);
    node.counts.drops.fetch_add(1, SeqCst);
    if let Some(inner) = &node.inner {
        inner.wake_by_ref();
    }
}

/// # Safety
/// As `clone`.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: per the contract, `data` points to a live Node.
    let node = unsafe { &*data.cast::<Node>() };
    node.counts.wakes.fetch_add(1, SeqCst);
    if let Some(inner) = &node.inner {
        inner.wake_by_ref();
    }
}

/// # Safety
/// As `clone`; consumes the node.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: per the contract, we own one strong count of the Arc<Node>.
    let node = unsafe { Arc::from_raw(data.cast::<Node>()) };
    node.counts.drops.fetch_add(1, SeqCst);
    drop(node);
}
