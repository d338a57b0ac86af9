//! Model-based property test of a pool with waiter places: random sequences of allocations,
//! asynchronous allocations, polls, drops and cancellations, checked after every step against a
//! plain reference model (free slot count, FIFO queue of waiters, who holds which value).
//!
//! The model encodes the crate's guarantees: a dropped `Box` goes to the oldest waiter when one
//! waits (and wakes it exactly once), otherwise back to the pool; a cancelled waiter that was
//! already handed a slot passes it on the same way; every value is dropped exactly once.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use pool::{Box, Pool, pool};
use proptest::prelude::*;
use sync_core::testing::WakeCounter;

const SLOTS: usize = 3;
const PLACES: usize = 2;

/// Ids of dropped values, to check that each is dropped exactly once.
static DROPPED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

#[derive(Debug)]
struct Tracked(u32);

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPPED.lock().unwrap().push(self.0);
    }
}

pool!(P: [Tracked; SLOTS], PLACES);

#[derive(Debug, Clone)]
enum Op {
    New,
    NewAsync,
    DropBox(usize),
    Poll(usize),
    Cancel(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::New),
        3 => Just(Op::NewAsync),
        3 => any::<usize>().prop_map(Op::DropBox),
        2 => any::<usize>().prop_map(Op::Poll),
        1 => any::<usize>().prop_map(Op::Cancel),
    ]
}

type Pending = Pin<std::boxed::Box<dyn Future<Output = Option<Box<P>>>>>;

/// A waiting future with its expected state.
struct Waiter {
    id: u32,
    future: Pending,
    wakes: WakeCounter,
    /// The model says a slot was handed to it (it must be ready when polled, and woken once).
    granted: bool,
}

/// The reference model plus the real objects it describes.
#[derive(Default)]
struct Harness {
    free: usize,
    boxes: Vec<(u32, Box<P>)>,
    /// Oldest first.
    waiters: VecDeque<Waiter>,
    next_id: u32,
    /// Values that must have been dropped (created, not alive).
    gone: Vec<u32>,
}

impl Harness {
    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// A slot is free again: the oldest waiter without one gets it, else the pool.
    fn slot_released(&mut self) {
        match self.waiters.iter_mut().find(|w| !w.granted) {
            Some(w) => w.granted = true,
            None => self.free += 1,
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::New => {
                let id = self.id();
                let made = Box::<P>::new(Tracked(id));
                let expect = self.free > 0;
                assert_eq!(made.is_some(), expect, "Box::new with {} free", self.free);
                match made {
                    Some(b) => {
                        self.free -= 1;
                        self.boxes.push((id, b));
                    }
                    // `Box::new` returned `None`: the value came back and was dropped.
                    None => self.gone.push(id),
                }
            }
            Op::NewAsync => {
                let id = self.id();
                let wakes = WakeCounter::new();
                let mut future: Pending = std::boxed::Box::pin(Box::<P>::new_async(Tracked(id)));
                let waker = wakes.waker();
                let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
                let queued = self.waiters.len();
                match polled {
                    Poll::Ready(Some(b)) => {
                        assert!(self.free > 0, "a slot without a free one");
                        self.free -= 1;
                        self.boxes.push((id, b));
                    }
                    Poll::Ready(None) => {
                        self.gone.push(id);
                        assert_eq!(self.free, 0, "refused while a slot was free");
                        assert_eq!(queued, PLACES, "refused while a waiter place was free");
                    }
                    Poll::Pending => {
                        assert_eq!(self.free, 0, "waits while a slot is free");
                        assert!(queued < PLACES, "queued beyond the waiter places");
                        self.waiters.push_back(Waiter {
                            id,
                            future,
                            wakes,
                            granted: false,
                        });
                    }
                }
            }
            Op::DropBox(k) => {
                if self.boxes.is_empty() {
                    return;
                }
                let (id, b) = self.boxes.remove(k % self.boxes.len());
                assert_eq!(b.0, id, "a box holds its own value");
                drop(b);
                self.gone.push(id);
                self.slot_released();
            }
            Op::Poll(k) => {
                if self.waiters.is_empty() {
                    return;
                }
                let k = k % self.waiters.len();
                let w = &mut self.waiters[k];
                assert_eq!(
                    w.wakes.wakes(),
                    usize::from(w.granted),
                    "waiter {} woken once exactly when granted",
                    w.id
                );
                let waker = w.wakes.waker();
                match w.future.as_mut().poll(&mut Context::from_waker(&waker)) {
                    Poll::Ready(Some(b)) => {
                        assert!(w.granted, "ready before the model granted a slot");
                        assert_eq!(b.0, w.id, "the waiter's own value");
                        let w = self.waiters.remove(k).unwrap();
                        self.boxes.push((w.id, b));
                    }
                    Poll::Ready(None) => panic!("a queued waiter gave up"),
                    Poll::Pending => assert!(!w.granted, "granted but still pending"),
                }
            }
            Op::Cancel(k) => {
                if self.waiters.is_empty() {
                    return;
                }
                let w = self.waiters.remove(k % self.waiters.len()).unwrap();
                drop(w.future);
                // Its value is dropped with it, once.
                self.gone.push(w.id);
                if w.granted {
                    self.slot_released();
                }
            }
        }
    }

    fn check(&self) {
        assert_eq!(P::free_slots(), self.free, "free slots");
        let waiting = self.waiters.iter().filter(|w| !w.granted).count();
        assert_eq!(P::waiting(), waiting, "waiting futures");
        let mut dropped = DROPPED.lock().unwrap().clone();
        let mut gone = self.gone.clone();
        dropped.sort_unstable();
        gone.sort_unstable();
        assert_eq!(
            dropped, gone,
            "every gone value dropped exactly once, live ones not at all"
        );
    }
}

fn run(ops: &[Op]) {
    DROPPED.lock().unwrap().clear();
    let mut h = Harness {
        free: SLOTS,
        ..Harness::default()
    };
    h.check();
    for op in ops {
        h.apply(op);
        h.check();
    }
    // Tear-down: everything goes back.
    drop(h);
    assert_eq!(P::free_slots(), SLOTS, "every slot back at the end");
    assert_eq!(P::waiting(), 0, "no waiter left at the end");
}

proptest! {
    // A few cases under miri, which is slow; no failure files (miri isolates the file system,
    // and the minimal failing input is printed anyway).
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn pool_matches_its_model(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops);
    }
}
