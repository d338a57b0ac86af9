//! Test helpers shared by the frugal crates' tests (feature `test-util`; not a public API).
//!
//! [`WakeCounter`] makes wakers that count their clones, drops and wakes, optionally forwarding
//! wakes to another waker (such as loom's `block_on` waker), and wakers whose `clone` panics.
//! [`CountingAlloc`] is a global allocator that counts allocations.

use std::alloc::{GlobalAlloc, Layout};
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

/// A global allocator wrapper that counts allocations, for tests proving that a path allocates
/// nothing (install it with `#[global_allocator]` in a test binary of its own, so no other test
/// allocates while it counts).
///
/// ```
/// use std::alloc::System;
/// use sync_core::testing::CountingAlloc;
///
/// static COUNTING: CountingAlloc<System> = CountingAlloc::new(System);
/// // In a test binary: `#[global_allocator] static GLOBAL: ... = CountingAlloc::new(System);`
/// assert_eq!(COUNTING.allocations(), 0);
/// ```
#[derive(Debug)]
pub struct CountingAlloc<A> {
    inner: A,
    allocations: AtomicUsize,
    bytes: AtomicUsize,
}

impl<A> CountingAlloc<A> {
    /// Counts the allocations made through `inner`.
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            allocations: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        }
    }

    /// Allocations (including reallocations) so far.
    pub fn allocations(&self) -> usize {
        self.allocations.load(SeqCst)
    }

    /// Bytes requested by those allocations.
    pub fn bytes(&self) -> usize {
        self.bytes.load(SeqCst)
    }

    fn count(&self, size: usize) {
        self.allocations.fetch_add(1, SeqCst);
        self.bytes.fetch_add(size, SeqCst);
    }
}

// SAFETY: every call is forwarded unchanged to `inner`, which upholds `GlobalAlloc`'s contract;
// the wrapper only updates counters (atomics, which never allocate).
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count(new_size);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}
