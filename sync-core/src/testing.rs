//! Test helpers shared by the frugal crates' tests (feature `test-util`; not a public API).
//!
//! [`WakeCounter`] makes wakers that count their clones, drops and wakes, optionally forwarding
//! wakes to another waker (such as loom's `block_on` waker), and wakers whose `clone` panics.
//! [`CountingAlloc`] is a global allocator that counts allocations. [`Drops`] hands out
//! [`Tracked`] values that count their drops (exactly-once checks), and [`poll_once`] /
//! [`poll_with`] poll a future once outside any executor. [`critical_sections`] counts the
//! critical sections this thread entered, for tests that count them per operation.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

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
    /// Blocks aligned to at least this are *tagged*: their live number is kept.
    tag_align: usize,
    live_tagged: AtomicUsize,
}

impl<A> CountingAlloc<A> {
    /// Counts the allocations made through `inner`.
    pub const fn new(inner: A) -> Self {
        Self::with_tag_align(inner, usize::MAX)
    }

    /// Counts the allocations made through `inner`, and keeps the number of live blocks aligned
    /// to at least `tag_align`: a test gives the objects it tracks that alignment (a task-ffi
    /// test, its tasks) to tell their allocations from everything else in the process.
    pub const fn with_tag_align(inner: A, tag_align: usize) -> Self {
        Self {
            inner,
            allocations: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            tag_align,
            live_tagged: AtomicUsize::new(0),
        }
    }

    /// Live blocks aligned to at least the tag alignment (allocated and not yet freed).
    pub fn live_tagged(&self) -> usize {
        self.live_tagged.load(SeqCst)
    }

    /// Allocations (including reallocations) so far.
    pub fn allocations(&self) -> usize {
        self.allocations.load(SeqCst)
    }

    /// Bytes requested by those allocations.
    pub fn bytes(&self) -> usize {
        self.bytes.load(SeqCst)
    }

    fn count(&self, layout: Layout) {
        self.allocations.fetch_add(1, SeqCst);
        self.bytes.fetch_add(layout.size(), SeqCst);
        if layout.align() >= self.tag_align {
            self.live_tagged.fetch_add(1, SeqCst);
        }
    }
}

// SAFETY: every call is forwarded unchanged to `inner`, which upholds `GlobalAlloc`'s contract;
// the wrapper only updates counters (atomics, which never allocate).
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count(layout);
        // SAFETY: forwarded with the caller's layout.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.count(layout);
        // SAFETY: forwarded with the caller's layout.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() >= self.tag_align {
            self.live_tagged.fetch_sub(1, SeqCst);
        }
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A new allocation by count and bytes; the same block for the live count.
        self.allocations.fetch_add(1, SeqCst);
        self.bytes.fetch_add(new_size, SeqCst);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

/// Counts how many of the [`Tracked`] values it made were dropped.
#[derive(Clone, Debug, Default)]
pub struct Drops(Arc<AtomicUsize>);

impl Drops {
    /// A counter at zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A value with `id` whose drop is counted here.
    #[must_use]
    pub fn track(&self, id: usize) -> Tracked {
        Tracked {
            id,
            drops: self.0.clone(),
        }
    }

    /// Drops so far.
    #[must_use]
    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A value that adds one to its [`Drops`] when dropped; compared by `id`.
#[derive(Debug)]
pub struct Tracked {
    /// Which value this is.
    pub id: usize,
    drops: Arc<AtomicUsize>,
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// Polls `future` once with `waker`, outside any executor.
pub fn poll_with<F: Future + Unpin + ?Sized>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Polls `future` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin + ?Sized>(future: &mut F) -> Poll<F::Output> {
    poll_with(future, Waker::noop())
}

/// Two real-time threads of different priority on one CPU (Linux): the priority-inversion test
/// of every frugal lock.
#[cfg(all(target_os = "linux", not(loom), not(miri)))]
pub mod realtime {
    use std::string::String;
    use std::sync::mpsc;
    use std::time::Duration;
    use std::{format, println};

    /// Why [`low_and_high`] did not run the work.
    #[derive(Debug)]
    pub struct Skipped(pub String);

    /// Makes the calling thread `SCHED_FIFO` at `priority`, then pins it to CPU 0 (in that
    /// order, so that a thread joining a CPU busy with a real-time thread preempts it at once).
    fn realtime_on_cpu0(priority: i32) -> Result<(), String> {
        let param = libc::sched_param {
            sched_priority: priority,
        };
        // SAFETY: no preconditions; it names the calling thread.
        let me = unsafe { libc::pthread_self() };
        // SAFETY: `me` is the live calling thread and `param` an initialised `sched_param`.
        let rc = unsafe { libc::pthread_setschedparam(me, libc::SCHED_FIFO, &raw const param) };
        if rc != 0 {
            return Err(format!(
                "pthread_setschedparam(SCHED_FIFO, {priority}): {}",
                std::io::Error::from_raw_os_error(rc)
            ));
        }
        // SAFETY: an all-zero `cpu_set_t` is the empty set.
        let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        // SAFETY: CPU 0 is within the set's capacity.
        unsafe { libc::CPU_SET(0, &mut set) };
        // SAFETY: `set` is a valid `cpu_set_t` of the size passed; 0 names the calling thread.
        let rc =
            unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const set) };
        if rc != 0 {
            return Err(format!(
                "sched_setaffinity(CPU 0): {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }

    /// Runs one side, turning a panic into an error that names the side (a panicking side must
    /// fail the test with its message, not be mistaken for a hang).
    fn run(side: &'static str, f: impl FnOnce()) -> Result<&'static str, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map(|()| side)
            .map_err(|p| {
                let message = p
                    .downcast_ref::<&str>()
                    .map(|s| std::string::String::from(*s))
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("the {side}-priority thread panicked: {message}")
            })
    }

    /// Runs `low` on a `SCHED_FIFO` thread of priority 10 and, once it has started, `high` on
    /// one of priority 20, both pinned to CPU 0, and waits for both.
    ///
    /// `Err(Skipped)` (after printing why) when the process may not use real-time priorities.
    /// If they do not both finish within `limit` — a lock that the high-priority thread spins on
    /// while the low-priority holder cannot run — it prints `what` and exits the process with
    /// status 1, since the spinning thread cannot be stopped.
    pub fn low_and_high(
        what: &str,
        limit: Duration,
        low: impl FnOnce() + Send + 'static,
        high: impl FnOnce() + Send + 'static,
    ) -> Result<(), Skipped> {
        // Probe first, on a thread of its own (a failed attempt changes nothing).
        let probe = std::thread::spawn(|| realtime_on_cpu0(1))
            .join()
            .expect("probe thread");
        if let Err(why) = probe {
            println!("skipped: {what}: this process may not use real-time priorities ({why})");
            return Err(Skipped(why));
        }
        let (done, finished) = mpsc::channel::<Result<&'static str, String>>();
        let (started_tx, started) = mpsc::channel::<()>();
        let low_done = done.clone();
        std::thread::spawn(move || {
            if let Err(why) = realtime_on_cpu0(10) {
                let _ = low_done.send(Err(why));
                return;
            }
            let _ = started_tx.send(());
            let _ = low_done.send(run("low", low));
        });
        if started.recv_timeout(limit).is_err() {
            println!("FAILED: {what}: the low-priority thread did not start");
            std::process::exit(1);
        }
        std::thread::spawn(move || {
            if let Err(why) = realtime_on_cpu0(20) {
                let _ = done.send(Err(why));
                return;
            }
            let _ = done.send(run("high", high));
        });
        for _ in 0..2 {
            match finished.recv_timeout(limit) {
                Ok(Ok(_)) => {}
                Ok(Err(why)) => panic!("{what}: {why}"),
                Err(_) => {
                    println!(
                        "FAILED: {what}: not finished after {limit:?}: a higher-priority thread \
                         waits for a lock held by a lower-priority one that cannot run (a spin \
                         lock)"
                    );
                    std::process::exit(1);
                }
            }
        }
        Ok(())
    }
}

std::thread_local! {
    static SECTIONS: Cell<usize> = const { Cell::new(0) };
}

/// The critical sections this thread has entered through [`crate::sync::cs::with`] (the one
/// entry of the wait queue and of every `CsCell`) since it started. Counted only with feature
/// `test-util` and not under loom.
#[must_use]
pub fn critical_sections() -> usize {
    SECTIONS.with(Cell::get)
}

/// Counts one critical section of this thread (called by `cs::with`, which loom replaces).
#[cfg(not(loom))]
pub(crate) fn count_critical_section() {
    SECTIONS.with(|n| n.set(n.get() + 1));
}
