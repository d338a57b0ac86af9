//! Model-based property tests of the frame and pool tiers: random sequences of operations,
//! checked against a plain reference model after every step.
//!
//! Frame tier: frames of random allocations (boxes of several alignments, up to one that never
//! fits the arena, zero-sized values, copied slices, uninitialised slots, growing vectors),
//! drops, `into_inner` and `leak`, under every overflow policy. The model is a bump pointer:
//! it predicts whether each request lands in the arena (at which offset) or on the heap, or is
//! refused, and checks `used`, `allocations`, `capacity`, the stats at every frame boundary
//! (a frame's end frees everything), alignment, that live allocations never overlap, that what
//! was written reads back intact, and that every value is dropped exactly once (leaked ones
//! never).
//!
//! Pool tier: boxes of every size class and of the heap tier, vectors that move through the
//! classes, frees, `into_inner`, `into_vec`, through the allocator and (feature `tokio`) through
//! a task scope. The model predicts the LIFO reuse of freed blocks, the pool, heap and scope
//! counters and the drops, and checks alignment, disjointness and contents.
#![cfg(not(loom))]

use std::cell::Cell;
use std::mem::{align_of, size_of};
use std::panic::{AssertUnwindSafe, catch_unwind};

use framealloc::{AllocConfig, Frame, FrameBox, FrameVec, Overflow, PoolBox, PoolVec, SmartAlloc};
use proptest::prelude::*;

const ARENA_ALIGN: usize = 4096;
const MAX_BLOCK: usize = 4096;
/// Every arena block starts on a multiple of this and takes whole multiples of it.
const GRANULE: usize = 8;

thread_local! {
    /// Drops of `Tracked` values in the current case (the cases run one after another on the
    /// test thread).
    static DROPS: Cell<usize> = const { Cell::new(0) };
    /// Set while a panic is expected on this thread (see `quietly`).
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching a panic without printing it (a refused push under a hard limit panics by
/// design); panics on other threads, and unexpected ones here, print as usual.
fn quietly(f: impl FnOnce()) -> std::thread::Result<()> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let caught = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    caught
}

/// `native`, or `miri` under miri (which is slow): sequence lengths and push counts.
const fn n(native: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { native }
}

fn drops() -> usize {
    DROPS.with(Cell::get)
}

macro_rules! align_markers {
    ($($name:ident = $n:literal),*) => {$(
        #[derive(Clone, Copy, Debug)]
        #[repr(align($n))]
        struct $name;
    )*};
}
align_markers!(
    Al1 = 1,
    Al8 = 8,
    Al64 = 64,
    Al2048 = 2048,
    Al4096 = 4096,
    Al8192 = 8192
);

/// `N` pattern bytes at the alignment of `Al`, counting its drop.
#[repr(C)]
struct Tracked<Al, const N: usize> {
    _align: [Al; 0],
    bytes: [u8; N],
}

impl<Al, const N: usize> Drop for Tracked<Al, N> {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
    }
}

/// What the models need to know of a value they place.
trait Value: Sized {
    /// Counts a drop.
    const TRACKED: bool;
    fn filled(pattern: u8) -> Self;
    fn intact(&self, pattern: u8) -> bool;
}

impl<Al, const N: usize> Value for Tracked<Al, N> {
    const TRACKED: bool = true;
    fn filled(pattern: u8) -> Self {
        Self {
            _align: [],
            bytes: [pattern; N],
        }
    }
    fn intact(&self, pattern: u8) -> bool {
        self.bytes.iter().all(|&b| b == pattern)
    }
}

/// A zero-sized value with a high alignment.
#[derive(Clone, Copy)]
struct Zst([Al4096; 0]);

impl Value for Zst {
    const TRACKED: bool = false;
    fn filled(_: u8) -> Self {
        Self([])
    }
    fn intact(&self, _: u8) -> bool {
        true
    }
}

type Small = Tracked<Al8, 20>; // 24 bytes at 8
type Line = Tracked<Al64, 40>; // 64 bytes at 64
type Page = Tracked<Al4096, 100>; // 4096 bytes at 4096
type Huge = Tracked<Al8192, 16>; // 8192 bytes at 8192: never in the arena nor a pool class
type Wide = Tracked<Al1, 5000>; // 5000 bytes: the heap tier of the pool
type Half = Tracked<Al2048, 8>; // 2048 bytes at 2048
type Tiny = Tracked<Al1, 1>; // 1 byte

fn align_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

/// `[addr, addr + len)` ranges of live allocations must not overlap.
fn assert_disjoint(mut ranges: Vec<(usize, usize)>) {
    ranges.retain(|&(_, len)| len > 0);
    ranges.sort_unstable();
    for w in ranges.windows(2) {
        assert!(
            w[0].0 + w[0].1 <= w[1].0,
            "live allocations overlap: {:#x}+{} and {:#x}+{}",
            w[0].0,
            w[0].1,
            w[1].0,
            w[1].1
        );
    }
}

// --- frame tier ------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Kind {
    Small,
    Line,
    Page,
    Huge,
    Zst,
}

#[derive(Clone, Debug)]
enum FrameOp {
    Box(Kind),
    Bytes(usize),
    Raw,
    NewVec,
    Push(usize, usize),
    Drop(usize),
    IntoInner(usize),
    Leak(usize),
    DropVec(usize),
    LeakVec(usize),
}

fn frame_op() -> impl Strategy<Value = FrameOp> {
    let kind = prop_oneof![
        4 => Just(Kind::Small),
        3 => Just(Kind::Line),
        2 => Just(Kind::Page),
        1 => Just(Kind::Huge),
        1 => Just(Kind::Zst),
    ];
    prop_oneof![
        6 => kind.prop_map(FrameOp::Box),
        3 => (0usize..700).prop_map(FrameOp::Bytes),
        1 => Just(FrameOp::Raw),
        2 => Just(FrameOp::NewVec),
        4 => (any::<usize>(), 1usize..n(80, 20)).prop_map(|(i, n)| FrameOp::Push(i, n)),
        2 => any::<usize>().prop_map(FrameOp::Drop),
        1 => any::<usize>().prop_map(FrameOp::IntoInner),
        1 => any::<usize>().prop_map(FrameOp::Leak),
        1 => any::<usize>().prop_map(FrameOp::DropVec),
        1 => any::<usize>().prop_map(FrameOp::LeakVec),
    ]
}

/// Where the model put an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Arena(usize),
    Heap,
    Refused,
}

/// The reference model of the frame tier: a bump pointer over an arena of `cap` bytes.
#[derive(Debug)]
struct FrameModel {
    overflow: Overflow,
    cap: usize,
    /// Address of the arena, learnt from the first allocation placed in it.
    base: Option<usize>,
    pos: usize,
    count: usize,
    heap: usize,
    /// Bytes of the heap requests of this frame that an arena could hold (for `Grow`).
    wanted: usize,
    frames: usize,
    arena_allocs: usize,
    arena_bytes: usize,
    heap_allocs: usize,
    drops: usize,
}

impl FrameModel {
    /// Places `size` (> 0) bytes at `align`.
    fn place(&mut self, size: usize, align: usize) -> Place {
        if align <= ARENA_ALIGN {
            let start = align_up(self.pos, align.max(GRANULE));
            if start + align_up(size, GRANULE) <= self.cap {
                self.pos = start + align_up(size, GRANULE);
                self.count += 1;
                return Place::Arena(start);
            }
        }
        if self.overflow == Overflow::Error {
            return Place::Refused;
        }
        self.heap += 1;
        if align <= ARENA_ALIGN {
            self.wanted += size;
        }
        Place::Heap
    }

    /// Checks that `addr` (of `len` bytes) is where `place` says.
    fn check_addr(&mut self, place: Place, addr: usize, len: usize) {
        match place {
            Place::Arena(off) => {
                let base = *self.base.get_or_insert(addr - off);
                assert_eq!(addr, base + off, "arena allocation at the wrong offset");
                assert_eq!(base % ARENA_ALIGN, 0);
            }
            Place::Heap => {
                if let Some(base) = self.base {
                    assert!(
                        addr + len <= base || addr >= base + self.cap,
                        "a heap block inside the arena"
                    );
                }
            }
            Place::Refused => unreachable!(),
        }
    }

    /// Places a `T` and checks the frame's answer.
    fn frame_box<'f, T: Value>(
        &mut self,
        frame: &'f Frame<'_>,
        pattern: u8,
    ) -> Option<FrameBox<'f, T>> {
        let place = if size_of::<T>() == 0 {
            None
        } else {
            Some(self.place(size_of::<T>(), align_of::<T>()))
        };
        match frame.try_frame_box(T::filled(pattern)) {
            Ok(b) => {
                let addr = std::ptr::from_ref::<T>(&b).addr();
                assert_eq!(addr % align_of::<T>(), 0, "misaligned");
                match place {
                    None => {}
                    Some(Place::Refused) => panic!("placed although the model refused"),
                    Some(p) => self.check_addr(p, addr, size_of::<T>()),
                }
                Some(b)
            }
            Err(back) => {
                assert_eq!(place, Some(Place::Refused), "refused although it fits");
                assert!(back.0.intact(pattern), "the value came back changed");
                drop(back);
                self.drops += usize::from(T::TRACKED);
                None
            }
        }
    }

    fn check_frame(&self, frame: &Frame<'_>, alloc: &SmartAlloc) {
        assert_eq!(frame.used(), self.pos, "used");
        assert_eq!(frame.allocations(), self.count + self.heap, "allocations");
        assert_eq!(frame.capacity(), self.cap, "capacity");
        assert_eq!(alloc.stats().heap.live_count(), self.heap, "heap blocks");
        assert_eq!(drops(), self.drops, "drops");
    }

    /// The frame ended: the model of what the allocator publishes, and the next capacity.
    fn end_frame(&mut self, alloc: &SmartAlloc) {
        self.frames += 1;
        self.arena_allocs += self.count;
        self.arena_bytes += self.pos;
        self.heap_allocs += self.heap;
        let st = alloc.stats();
        assert_eq!(st.frames, self.frames);
        assert_eq!(st.frame.allocations, self.arena_allocs);
        assert_eq!(st.frame.bytes_allocated, self.arena_bytes);
        assert_eq!(st.frame.live_count(), 0, "a frame's end frees everything");
        assert_eq!(st.frame.live_bytes(), 0);
        assert_eq!(st.heap.allocations, self.heap_allocs);
        assert_eq!(st.heap.live_count(), 0, "the heap overflow is freed");
        assert_eq!(drops(), self.drops, "drops");
        let needed = self.pos + self.wanted;
        let old = self.cap;
        let now = st.frame.reserved_bytes;
        if self.overflow == Overflow::Grow {
            assert!(now >= old, "the arena shrank from {old} to {now}");
            if self.wanted > 0 && needed > old {
                assert!(now >= needed, "grown to {now}, the frame needed {needed}");
            }
        } else {
            assert_eq!(now, old, "the configured capacity is kept");
        }
        if now != old {
            self.base = None;
        }
        self.cap = now;
        (self.pos, self.count, self.heap, self.wanted) = (0, 0, 0, 0);
    }
}

/// A live frame allocation: its bytes and whether dropping it counts a drop.
trait FrameItem<'f> {
    /// `(address, bytes)` of the memory it owns.
    fn range(&self) -> (usize, usize);
    fn intact(&self) -> bool;
    /// Drops it; `true` if that dropped a tracked value.
    fn drop_item(self: Box<Self>) -> bool;
    /// `into_inner` then drop; `true` if that dropped a tracked value.
    fn into_inner_item(self: Box<Self>) -> bool;
    /// Gives up the handle for a reference.
    fn leak_item(self: Box<Self>) -> Box<dyn FrameItem<'f> + 'f>;
}

struct BoxItem<'f, T>(FrameBox<'f, T>, u8);

impl<'f, T: Value + 'f> FrameItem<'f> for BoxItem<'f, T> {
    fn range(&self) -> (usize, usize) {
        (std::ptr::from_ref::<T>(&self.0).addr(), size_of::<T>())
    }
    fn intact(&self) -> bool {
        self.0.intact(self.1)
    }
    fn drop_item(self: Box<Self>) -> bool {
        T::TRACKED
    }
    fn into_inner_item(self: Box<Self>) -> bool {
        let v = self.0.into_inner();
        assert!(v.intact(self.1));
        T::TRACKED
    }
    fn leak_item(self: Box<Self>) -> Box<dyn FrameItem<'f> + 'f> {
        Box::new(RefItem(self.0.leak(), self.1))
    }
}

/// A leaked box or a slot from `frame_alloc`: never dropped.
struct RefItem<'f, T>(&'f mut T, u8);

impl<'f, T: Value + 'f> FrameItem<'f> for RefItem<'f, T> {
    fn range(&self) -> (usize, usize) {
        (std::ptr::from_ref::<T>(self.0).addr(), size_of::<T>())
    }
    fn intact(&self) -> bool {
        self.0.intact(self.1)
    }
    fn drop_item(self: Box<Self>) -> bool {
        false
    }
    fn into_inner_item(self: Box<Self>) -> bool {
        false
    }
    fn leak_item(self: Box<Self>) -> Box<dyn FrameItem<'f> + 'f> {
        self
    }
}

/// An element of a slice the model can recompute: element `i` is `nth(first + i)`.
trait Elem: Copy + PartialEq {
    fn nth(n: u32) -> Self;
}

impl Elem for u8 {
    fn nth(n: u32) -> Self {
        n as Self
    }
}

impl Elem for u32 {
    fn nth(n: u32) -> Self {
        n
    }
}

/// A copied slice, or the elements of a leaked vector: element `i` is `E::nth(first + i)`.
struct SliceItem<'f, E>(&'f mut [E], u32);

impl<'f, E: Elem + 'f> FrameItem<'f> for SliceItem<'f, E> {
    fn range(&self) -> (usize, usize) {
        (self.0.as_ptr().addr(), size_of_val(&*self.0))
    }
    fn intact(&self) -> bool {
        self.0.iter().zip(self.1..).all(|(&e, n)| e == E::nth(n))
    }
    fn drop_item(self: Box<Self>) -> bool {
        false
    }
    fn into_inner_item(self: Box<Self>) -> bool {
        false
    }
    fn leak_item(self: Box<Self>) -> Box<dyn FrameItem<'f> + 'f> {
        self
    }
}

/// A frame vector: element `i` is `first + i`; `place` is where its buffer is.
struct VecItem<'f> {
    v: FrameVec<'f, u32>,
    first: u32,
    place: Option<Place>,
}

impl VecItem<'_> {
    fn intact(&self) -> bool {
        self.v.iter().zip(self.first..).all(|(&e, i)| e == i)
    }

    /// Pushes `n` elements one by one, checking each growth against the model.
    fn push(&mut self, n: usize, model: &mut FrameModel, frame: &Frame<'_>, alloc: &SmartAlloc) {
        for _ in 0..n {
            let (old_ptr, old_cap, len) = (self.v.as_ptr().addr(), self.v.capacity(), self.v.len());
            let value = self.first + len as u32;
            let pushed = quietly(|| self.v.push(value));
            if pushed.is_err() {
                // Only a hard limit refuses; a refused push changes nothing.
                assert_eq!(model.overflow, Overflow::Error, "push panicked");
                assert_eq!(self.v.len(), len);
                assert_eq!(self.v.capacity(), old_cap);
                assert_eq!(self.v.as_ptr().addr(), old_ptr);
                assert!(self.intact());
                model.check_frame(frame, alloc);
                return;
            }
            let (ptr, cap) = (self.v.as_ptr().addr(), self.v.capacity());
            assert_eq!(self.v.len(), len + 1);
            if cap == old_cap {
                assert_eq!(ptr, old_ptr, "moved without growing");
                continue;
            }
            assert!(
                cap > len && cap >= 2 * old_cap,
                "grew from {old_cap} to {cap}"
            );
            let in_place = match self.place {
                Some(Place::Arena(off)) => {
                    align_up(off + old_cap * 4, GRANULE) == model.pos
                        && align_up(off + cap * 4, GRANULE) <= model.cap
                }
                _ => false,
            };
            if in_place {
                assert_eq!(ptr, old_ptr, "the last allocation grows in place");
                let Some(Place::Arena(off)) = self.place else {
                    unreachable!()
                };
                model.pos = align_up(off + cap * 4, GRANULE);
            } else {
                let place = model.place(cap * 4, 4);
                assert_ne!(place, Place::Refused, "grew although the model refused");
                assert_ne!(ptr, old_ptr);
                model.check_addr(place, ptr, cap * 4);
                self.place = Some(place);
            }
            assert_eq!(ptr % 4, 0);
        }
    }
}

fn run_frames(cap: usize, overflow: Overflow, frames: &[Vec<FrameOp>]) {
    DROPS.with(|d| d.set(0));
    let alloc = SmartAlloc::new(AllocConfig {
        frame_capacity: cap,
        frame_overflow: overflow,
        ..Default::default()
    });
    let mut m = FrameModel {
        overflow,
        cap,
        base: None,
        pos: 0,
        count: 0,
        heap: 0,
        wanted: 0,
        frames: 0,
        arena_allocs: 0,
        arena_bytes: 0,
        heap_allocs: 0,
        drops: 0,
    };
    let mut next = 0u32;
    for ops in frames {
        let frame = alloc.begin_frame();
        assert_eq!(frame.number(), m.frames);
        m.check_frame(&frame, &alloc);
        let mut items: Vec<Box<dyn FrameItem<'_> + '_>> = Vec::new();
        let mut vecs: Vec<VecItem<'_>> = Vec::new();
        for op in ops {
            next = next.wrapping_add(1);
            let pattern = next as u8;
            match *op {
                FrameOp::Box(kind) => {
                    fn boxed<'f, T: Value + 'f>(
                        m: &mut FrameModel,
                        frame: &'f Frame<'_>,
                        pattern: u8,
                    ) -> Option<Box<dyn FrameItem<'f> + 'f>> {
                        let b = m.frame_box::<T>(frame, pattern)?;
                        Some(Box::new(BoxItem(b, pattern)))
                    }
                    let item = match kind {
                        Kind::Small => boxed::<Small>(&mut m, &frame, pattern),
                        Kind::Line => boxed::<Line>(&mut m, &frame, pattern),
                        Kind::Page => boxed::<Page>(&mut m, &frame, pattern),
                        Kind::Huge => boxed::<Huge>(&mut m, &frame, pattern),
                        Kind::Zst => boxed::<Zst>(&mut m, &frame, pattern),
                    };
                    items.extend(item);
                }
                FrameOp::Bytes(len) => {
                    let src: Vec<u8> = (next..).take(len).map(u8::nth).collect();
                    let place = (len > 0).then(|| m.place(len, 1));
                    match frame.try_frame_slice(&src) {
                        Some(s) => {
                            assert_eq!(&*s, &src[..]);
                            if let Some(p) = place {
                                assert_ne!(p, Place::Refused, "placed although refused");
                                m.check_addr(p, s.as_ptr().addr(), len);
                            }
                            items.push(Box::new(SliceItem(s, next)));
                        }
                        None => assert_eq!(place, Some(Place::Refused), "refused a fit"),
                    }
                }
                FrameOp::Raw => {
                    let place = m.place(size_of::<Line>(), align_of::<Line>());
                    match frame.try_frame_alloc::<Line>() {
                        Some(slot) => {
                            let addr = std::ptr::from_ref(&*slot).addr();
                            assert_eq!(addr % align_of::<Line>(), 0);
                            m.check_addr(place, addr, size_of::<Line>());
                            let value = slot.write(Line::filled(pattern));
                            items.push(Box::new(RefItem(value, pattern)));
                        }
                        None => assert_eq!(place, Place::Refused, "refused a fit"),
                    }
                }
                FrameOp::NewVec => vecs.push(VecItem {
                    v: frame.frame_vec(),
                    first: next.wrapping_mul(1000),
                    place: None,
                }),
                FrameOp::Push(i, n) if !vecs.is_empty() => {
                    let len = vecs.len();
                    vecs[i % len].push(n, &mut m, &frame, &alloc);
                }
                FrameOp::Drop(i) if !items.is_empty() => {
                    let len = items.len();
                    m.drops += usize::from(items.swap_remove(i % len).drop_item());
                }
                FrameOp::IntoInner(i) if !items.is_empty() => {
                    let len = items.len();
                    m.drops += usize::from(items.swap_remove(i % len).into_inner_item());
                }
                FrameOp::Leak(i) if !items.is_empty() => {
                    let len = items.len();
                    let leaked = items.swap_remove(i % len).leak_item();
                    items.push(leaked);
                }
                FrameOp::DropVec(i) if !vecs.is_empty() => {
                    let len = vecs.len();
                    drop(vecs.swap_remove(i % len));
                }
                FrameOp::LeakVec(i) if !vecs.is_empty() => {
                    let len = vecs.len();
                    let VecItem { v, first, .. } = vecs.swap_remove(i % len);
                    items.push(Box::new(SliceItem(v.leak(), first)));
                }
                _ => {}
            }
            // After every step: contents, disjointness, the frame's counters.
            assert!(items.iter().all(|i| i.intact()), "frame data changed");
            assert!(vecs.iter().all(VecItem::intact), "vector data changed");
            let mut ranges: Vec<_> = items.iter().map(|i| i.range()).collect();
            ranges.extend(
                vecs.iter()
                    .filter(|v| v.v.capacity() > 0)
                    .map(|v| (v.v.as_ptr().addr(), v.v.capacity() * 4)),
            );
            assert_disjoint(ranges);
            m.check_frame(&frame, &alloc);
        }
        for item in items {
            m.drops += usize::from(item.drop_item());
        }
        drop(vecs);
        alloc.end_frame(frame);
        m.end_frame(&alloc);
    }
}

// --- pool tier -------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum PoolKind {
    Tiny,
    Small,
    Line,
    Half,
    Page,
    Wide,
    Huge,
    Zst,
}

#[derive(Clone, Debug)]
enum PoolOp {
    Box(PoolKind, bool),
    Free(usize),
    IntoInner(usize),
    NewVec(bool),
    Push(usize, usize),
    IntoVec(usize),
    DropVec(usize),
}

fn pool_op() -> impl Strategy<Value = PoolOp> {
    let kind = prop_oneof![
        Just(PoolKind::Tiny),
        Just(PoolKind::Small),
        Just(PoolKind::Line),
        Just(PoolKind::Half),
        Just(PoolKind::Page),
        Just(PoolKind::Wide),
        Just(PoolKind::Huge),
        Just(PoolKind::Zst),
    ];
    prop_oneof![
        6 => (kind, any::<bool>()).prop_map(|(k, s)| PoolOp::Box(k, s)),
        4 => any::<usize>().prop_map(PoolOp::Free),
        1 => any::<usize>().prop_map(PoolOp::IntoInner),
        2 => any::<bool>().prop_map(PoolOp::NewVec),
        3 => (any::<usize>(), 1usize..n(300, 40)).prop_map(|(i, n)| PoolOp::Push(i, n)),
        1 => any::<usize>().prop_map(PoolOp::IntoVec),
        1 => any::<usize>().prop_map(PoolOp::DropVec),
    ]
}

/// The tier that serves `size` bytes at `align`: `Some(block)` for a size class, `None` for the
/// heap tier.
fn class_block(size: usize, align: usize) -> Option<usize> {
    let need = size.max(align).max(16);
    (need <= MAX_BLOCK).then(|| need.next_power_of_two())
}

/// The reference model of the pool tier.
#[derive(Debug, Default)]
struct PoolModel {
    refuse_heap: bool,
    /// Freed blocks per block size, most recent last (the pool reuses them LIFO).
    freed: std::collections::HashMap<usize, Vec<usize>>,
    pool_live: usize,
    pool_bytes: usize,
    heap_live: usize,
    heap_bytes: usize,
    scope_live: usize,
    scope_bytes: usize,
    drops: usize,
}

impl PoolModel {
    /// A block of `size` (> 0) bytes at `align` was handed out at `addr`.
    fn on_alloc(&mut self, addr: usize, size: usize, align: usize, scoped: bool) {
        assert_eq!(addr % align, 0, "misaligned");
        match class_block(size, align) {
            Some(block) => {
                assert_eq!(addr % block, 0, "a block is aligned to its own size");
                if let Some(expected) = self.freed.entry(block).or_default().pop() {
                    assert_eq!(
                        addr, expected,
                        "the last freed block of the class is reused"
                    );
                }
                self.pool_live += 1;
                self.pool_bytes += block;
                if scoped {
                    self.scope_live += 1;
                    self.scope_bytes += block;
                }
            }
            None => {
                self.heap_live += 1;
                self.heap_bytes += size;
                if scoped {
                    self.scope_live += 1;
                    self.scope_bytes += size;
                }
            }
        }
    }

    fn on_free(&mut self, addr: usize, size: usize, align: usize, scoped: bool) {
        let charged = match class_block(size, align) {
            Some(block) => {
                self.freed.entry(block).or_default().push(addr);
                self.pool_live -= 1;
                self.pool_bytes -= block;
                block
            }
            None => {
                self.heap_live -= 1;
                self.heap_bytes -= size;
                size
            }
        };
        if scoped {
            self.scope_live -= 1;
            self.scope_bytes -= charged;
        }
    }

    /// The block of a value: for disjointness checks.
    fn extent(size: usize, align: usize) -> usize {
        class_block(size, align).unwrap_or(size)
    }
}

/// A live pool box.
trait PoolItem {
    fn addr(&self) -> usize;
    fn layout(&self) -> (usize, usize);
    fn scoped(&self) -> bool;
    fn intact(&self) -> bool;
    /// Drops it (through `into_inner` when asked); `true` if that dropped a tracked value.
    fn free(self: Box<Self>, into_inner: bool) -> bool;
}

struct PoolBoxItem<'a, T>(PoolBox<'a, T>, u8, bool);

impl<T: Value> PoolItem for PoolBoxItem<'_, T> {
    fn addr(&self) -> usize {
        PoolBox::as_ptr(&self.0).addr()
    }
    fn layout(&self) -> (usize, usize) {
        (size_of::<T>(), align_of::<T>())
    }
    fn scoped(&self) -> bool {
        self.2
    }
    fn intact(&self) -> bool {
        self.0.intact(self.1)
    }
    fn free(self: Box<Self>, into_inner: bool) -> bool {
        if into_inner {
            let v = self.0.into_inner();
            assert!(v.intact(self.1));
        }
        T::TRACKED
    }
}

struct PoolVecItem<'a> {
    v: PoolVec<'a, u32>,
    first: u32,
    scoped: bool,
}

impl PoolVecItem<'_> {
    fn block(&self) -> Option<(usize, usize, usize)> {
        let cap = self.v.capacity();
        (cap > 0).then(|| (self.v.as_ptr().addr(), cap * 4, 4))
    }
    fn intact(&self) -> bool {
        self.v.iter().zip(self.first..).all(|(&e, i)| e == i)
    }
}

/// Where a case allocates from: the allocator, or (feature `tokio`) a task scope.
struct Homes<'a> {
    alloc: &'a SmartAlloc,
    #[cfg(feature = "task")]
    task: &'a framealloc::task::TaskAlloc,
}

impl<'a> Homes<'a> {
    fn try_box<T>(&self, v: T, scoped: bool) -> Result<PoolBox<'a, T>, T> {
        #[cfg(feature = "task")]
        if scoped {
            return self.task.try_alloc_box(v).map_err(|e| e.into_inner());
        }
        let _ = scoped;
        self.alloc.try_pool_box(v).map_err(|e| e.into_inner())
    }
    fn vec(&self, scoped: bool) -> PoolVec<'a, u32> {
        #[cfg(feature = "task")]
        if scoped {
            return self.task.alloc_vec();
        }
        let _ = scoped;
        self.alloc.pool_vec()
    }
    /// Is `scoped` really through a scope in this build?
    fn scoped(scoped: bool) -> bool {
        cfg!(feature = "task") && scoped
    }
    fn check(&self, m: &PoolModel) {
        let st = self.alloc.stats();
        assert_eq!(st.pool.live_count(), m.pool_live, "pool blocks");
        assert_eq!(st.pool.live_bytes(), m.pool_bytes, "pool bytes");
        assert_eq!(st.heap.live_count(), m.heap_live, "heap blocks");
        assert_eq!(st.heap.live_bytes(), m.heap_bytes, "heap bytes");
        #[cfg(feature = "task")]
        {
            assert_eq!(self.task.live_allocations(), m.scope_live, "scope blocks");
            assert_eq!(self.task.live_bytes(), m.scope_bytes, "scope bytes");
        }
        assert_eq!(drops(), m.drops, "drops");
    }
}

fn run_pool(slab: usize, refuse_heap: bool, ops: &[PoolOp]) {
    DROPS.with(|d| d.set(0));
    let alloc = SmartAlloc::new(AllocConfig {
        pool_slab_bytes: slab,
        pool_overflow: if refuse_heap {
            Overflow::Error
        } else {
            Overflow::Heap
        },
        ..Default::default()
    });
    #[cfg(feature = "task")]
    let task = framealloc::task::TaskAlloc::new(&alloc);
    let homes = Homes {
        alloc: &alloc,
        #[cfg(feature = "task")]
        task: &task,
    };
    let mut m = PoolModel {
        refuse_heap,
        ..Default::default()
    };
    let mut items: Vec<Box<dyn PoolItem + '_>> = Vec::new();
    let mut vecs: Vec<PoolVecItem<'_>> = Vec::new();
    let mut next = 0u32;
    for op in ops {
        next = next.wrapping_add(1);
        let pattern = next as u8;
        match *op {
            PoolOp::Box(kind, scoped) => {
                fn boxed<'a, T: Value + 'a>(
                    homes: &Homes<'a>,
                    m: &mut PoolModel,
                    pattern: u8,
                    scoped: bool,
                ) -> Option<Box<dyn PoolItem + 'a>> {
                    let (size, align) = (size_of::<T>(), align_of::<T>());
                    let refused = m.refuse_heap && class_block(size, align).is_none();
                    match homes.try_box(T::filled(pattern), scoped) {
                        Ok(b) => {
                            assert!(!refused, "the heap tier served under a hard limit");
                            let scoped = Homes::scoped(scoped);
                            if size > 0 {
                                m.on_alloc(PoolBox::as_ptr(&b).addr(), size, align, scoped);
                            }
                            Some(Box::new(PoolBoxItem(b, pattern, scoped)))
                        }
                        Err(back) => {
                            assert!(refused, "refused a value the pool can hold");
                            assert!(back.intact(pattern));
                            drop(back);
                            m.drops += usize::from(T::TRACKED);
                            None
                        }
                    }
                }
                let h = &homes;
                let item = match kind {
                    PoolKind::Tiny => boxed::<Tiny>(h, &mut m, pattern, scoped),
                    PoolKind::Small => boxed::<Small>(h, &mut m, pattern, scoped),
                    PoolKind::Line => boxed::<Line>(h, &mut m, pattern, scoped),
                    PoolKind::Half => boxed::<Half>(h, &mut m, pattern, scoped),
                    PoolKind::Page => boxed::<Page>(h, &mut m, pattern, scoped),
                    PoolKind::Wide => boxed::<Wide>(h, &mut m, pattern, scoped),
                    PoolKind::Huge => boxed::<Huge>(h, &mut m, pattern, scoped),
                    PoolKind::Zst => boxed::<Zst>(h, &mut m, pattern, scoped),
                };
                items.extend(item);
            }
            PoolOp::Free(i) | PoolOp::IntoInner(i) if !items.is_empty() => {
                let len = items.len();
                let item = items.swap_remove(i % len);
                let (addr, (size, align), scoped) = (item.addr(), item.layout(), item.scoped());
                let tracked = item.free(matches!(op, PoolOp::IntoInner(_)));
                m.drops += usize::from(tracked);
                if size > 0 {
                    m.on_free(addr, size, align, scoped);
                }
            }
            PoolOp::NewVec(scoped) => vecs.push(PoolVecItem {
                v: homes.vec(scoped),
                first: next.wrapping_mul(1000),
                scoped: Homes::scoped(scoped),
            }),
            PoolOp::Push(i, n) if !vecs.is_empty() => {
                let len = vecs.len();
                let item = &mut vecs[i % len];
                for _ in 0..n {
                    let old = item.block();
                    let value = item.first + item.v.len() as u32;
                    let pushed = quietly(|| item.v.push(value));
                    let new = item.block();
                    if pushed.is_err() {
                        // Only a buffer above the largest class is refused, and nothing moves.
                        assert!(m.refuse_heap, "push panicked");
                        assert_eq!(new, old);
                        break;
                    }
                    if new != old {
                        let (addr, size, align) = new.expect("grew");
                        if m.refuse_heap {
                            assert!(class_block(size, align).is_some());
                        }
                        // The new block is taken before the old one is given back.
                        m.on_alloc(addr, size, align, item.scoped);
                        if let Some((addr, size, align)) = old {
                            m.on_free(addr, size, align, item.scoped);
                        }
                    }
                }
            }
            PoolOp::IntoVec(i) if !vecs.is_empty() => {
                let len = vecs.len();
                let item = vecs.swap_remove(i % len);
                let (block, first) = (item.block(), item.first);
                let std_vec = item.v.into_vec();
                assert!(std_vec.iter().zip(first..).all(|(&e, i)| e == i));
                if let Some((addr, size, align)) = block {
                    m.on_free(addr, size, align, item.scoped);
                }
            }
            PoolOp::DropVec(i) if !vecs.is_empty() => {
                let len = vecs.len();
                let item = vecs.swap_remove(i % len);
                if let Some((addr, size, align)) = item.block() {
                    m.on_free(addr, size, align, item.scoped);
                }
            }
            _ => {}
        }
        assert!(items.iter().all(|i| i.intact()), "pool data changed");
        assert!(vecs.iter().all(PoolVecItem::intact), "vector data changed");
        let mut ranges: Vec<_> = items
            .iter()
            .filter(|i| i.layout().0 > 0)
            .map(|i| {
                let (size, align) = i.layout();
                (i.addr(), PoolModel::extent(size, align))
            })
            .collect();
        ranges.extend(
            vecs.iter()
                .filter_map(PoolVecItem::block)
                .map(|(addr, size, align)| (addr, PoolModel::extent(size, align))),
        );
        assert_disjoint(ranges);
        homes.check(&m);
    }
    for item in items {
        m.drops += usize::from(item.free(false));
    }
    drop(vecs);
    let st = alloc.stats();
    assert_eq!(st.pool.live_count(), 0);
    assert_eq!(st.pool.live_bytes(), 0);
    assert_eq!(st.heap.live_count(), 0);
    assert_eq!(drops(), m.drops);
    #[cfg(feature = "task")]
    assert_eq!(task.live_allocations(), 0);
}

proptest! {
    // A few cases under miri, which is slow; no failure files (miri isolates the file system,
    // and a failing case prints its minimal input anyway).
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn frame_tier_matches_a_bump_pointer_model(
        cap in prop_oneof![Just(0usize), Just(100), Just(1024), Just(4096), Just(16 * 1024)],
        overflow in prop_oneof![Just(Overflow::Heap), Just(Overflow::Error), Just(Overflow::Grow)],
        frames in prop::collection::vec(prop::collection::vec(frame_op(), 0..n(30, 12)), 1..n(5, 3)),
    ) {
        run_frames(cap, overflow, &frames);
    }

    #[test]
    fn pool_tier_matches_a_lifo_free_list_model(
        slab in prop_oneof![Just(0usize), Just(100), Just(4096), Just(16 * 1024)],
        refuse_heap in any::<bool>(),
        ops in prop::collection::vec(pool_op(), 0..n(60, 25)),
    ) {
        run_pool(slab, refuse_heap, &ops);
    }
}
