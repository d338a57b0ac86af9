//! Static tasks on a small Rust executor: a queue of `Runnable`s in a critical section, filled by
//! the schedule function from thread mode and from the SysTick handler.

use core::cell::RefCell;
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use core::task::{Context, Poll};

use critical_section::Mutex;
use heapless::Deque;
use sync_core::AtomicWaker;
use task_ffi::{InPool, Runnable, TaskBlock, TaskSlot};

use crate::{Test, exec, isr};

pub const TESTS: &[Test] = &[
    (
        "static_task::slots_run_complete_and_respawn_woken_from_systick",
        slots_run_complete_and_respawn_woken_from_systick,
    ),
    (
        "static_task::pool_spawn_waits_for_a_free_slot",
        pool_spawn_waits_for_a_free_slot,
    ),
    (
        "static_task::detached_tasks_give_their_slots_back",
        detached_tasks_give_their_slots_back,
    ),
];

/// The run queue (the SysTick handler pushes onto it through a waker).
static QUEUE: Mutex<RefCell<Deque<Runnable, 8>>> = Mutex::new(RefCell::new(Deque::new()));
static SCHEDULES: AtomicUsize = AtomicUsize::new(0);

fn schedule(runnable: Runnable) {
    SCHEDULES.fetch_add(1, Ordering::Relaxed);
    critical_section::with(|cs| {
        QUEUE
            .borrow_ref_mut(cs)
            .push_back(runnable)
            .unwrap_or_else(|_| panic!("run queue full"));
    });
}

/// Runs queued runnables until the queue is empty; returns how many ran.
fn run_all() -> usize {
    let mut n = 0;
    while let Some(r) = critical_section::with(|cs| QUEUE.borrow_ref_mut(cs).pop_front()) {
        r.run();
        n += 1;
    }
    n
}

static TICK_WAKER: AtomicWaker = AtomicWaker::new();
static TICKED: AtomicBool = AtomicBool::new(false);

/// Waits until the SysTick hook set [`TICKED`].
async fn wait_for_tick() -> u32 {
    poll_fn(|cx| {
        TICK_WAKER.register(cx.waker());
        if TICKED.load(Ordering::Acquire) {
            Poll::Ready(40)
        } else {
            Poll::Pending
        }
    })
    .await
}

static SLOTS: [TaskSlot<128>; 3] = [const { TaskSlot::new() }; 3];

fn slots_run_complete_and_respawn_woken_from_systick() {
    for round in 0..3u32 {
        TICKED.store(false, Ordering::Release);
        let (r0, t0) = SLOTS[0].spawn(wait_for_tick(), schedule).unwrap();
        let (r1, t1) = SLOTS[1]
            .spawn(
                async move {
                    for _ in 0..3 {
                        exec::yield_now().await;
                    }
                    round + 2
                },
                schedule,
            )
            .unwrap();
        let (r2, t2) = SLOTS[2].spawn(async move { round * 10 }, schedule).unwrap();
        // Every slot is taken: a spawn gives its future back.
        let busy = SLOTS[2].spawn(async { 99 }, schedule).unwrap_err();
        assert_eq!(exec::block_on(busy.future).0, 99);
        r0.schedule();
        r1.schedule();
        r2.schedule();
        let mut runs = run_all();
        assert_eq!(runs, 6, "task 1 four times, tasks 0 and 2 once");
        assert!(!t0.is_finished() && t1.is_finished() && t2.is_finished());
        isr::set_hook(|| {
            if !TICKED.swap(true, Ordering::Release) {
                TICK_WAKER.wake();
            }
        });
        while !t0.is_finished() {
            runs += run_all();
            if !t0.is_finished() {
                cortex_m::asm::wfi();
            }
        }
        isr::clear_hook();
        runs += run_all();
        assert_eq!(runs, 7, "woken once from SysTick");
        assert_eq!(exec::block_on(t0).0, 40);
        assert_eq!(exec::block_on(t1).0, round + 2);
        assert_eq!(exec::block_on(t2).0, round * 10);
        // Slot 0's task is complete, but the waker slot still holds its waker.
        assert!(!SLOTS[0].is_free() && SLOTS[1].is_free() && SLOTS[2].is_free());
        drop(TICK_WAKER.take());
        assert!(SLOTS.iter().all(TaskSlot::is_free), "round {round}");
    }
    // A cancelled task frees its slot too.
    let (r, t) = SLOTS[0]
        .spawn(core::future::pending::<u32>(), schedule)
        .unwrap();
    drop(t);
    r.run();
    assert!(SLOTS[0].is_free());
}

static DONE: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicBool = AtomicBool::new(false);

/// Sets [`DROPPED`] when dropped.
struct SetOnDrop;

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        DROPPED.store(true, Ordering::Relaxed);
    }
}

/// Tasks spawned without a `Task` handle: one woken from SysTick by value (the bare-metal wake,
/// a wake by reference and a drop) completes and gives its slot back; one whose poll keeps no
/// waker is closed at the end of that poll, and its future is dropped on the next run.
fn detached_tasks_give_their_slots_back() {
    TICKED.store(false, Ordering::Release);
    let r = SLOTS[0]
        .spawn_detached(
            async {
                let v = wait_for_tick().await;
                DONE.fetch_add(v as usize, Ordering::Relaxed);
            },
            schedule,
        )
        .unwrap();
    r.schedule();
    assert_eq!(run_all(), 1);
    assert!(!SLOTS[0].is_free(), "waiting for the tick");
    isr::set_hook(|| {
        if !TICKED.swap(true, Ordering::Release) {
            // `AtomicWaker::wake` takes the waker out: a wake by value.
            TICK_WAKER.wake();
        }
    });
    while DONE.load(Ordering::Relaxed) == 0 {
        run_all();
        if DONE.load(Ordering::Relaxed) == 0 {
            cortex_m::asm::wfi();
        }
    }
    isr::clear_hook();
    assert_eq!(DONE.load(Ordering::Relaxed), 40);
    // Complete, but the waker its last poll registered keeps the slot taken until it goes.
    assert!(!SLOTS[0].is_free());
    drop(TICK_WAKER.take());
    assert!(SLOTS[0].is_free());

    let guard = SetOnDrop;
    let r = SLOTS[1]
        .spawn_detached(
            async move {
                let _guard = guard;
                poll_fn(|_| Poll::<()>::Pending).await;
            },
            schedule,
        )
        .unwrap();
    r.run();
    assert!(!DROPPED.load(Ordering::Relaxed) && !SLOTS[1].is_free());
    assert_eq!(run_all(), 1, "scheduled once more, to drop the future");
    assert!(DROPPED.load(Ordering::Relaxed) && SLOTS[1].is_free());
}

pool::pool!(Tasks: [TaskBlock<128>; 1], 1);

fn pool_spawn_waits_for_a_free_slot() {
    let (r1, t1) = InPool::<Tasks>::try_spawn(async { 1u32 }, schedule).unwrap();
    let mut waiting = pin!(InPool::<Tasks>::spawn(async { 2u32 }, schedule));
    let waker = exec::waker();
    let mut cx = Context::from_waker(&waker);
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    r1.run();
    assert_eq!(exec::block_on(t1).0, 1);
    let Poll::Ready(Ok((r2, t2))) = waiting.as_mut().poll(&mut cx) else {
        panic!("the freed slot did not reach the waiting spawn");
    };
    r2.run();
    assert_eq!(exec::block_on(t2).0, 2);
    assert!(
        InPool::<Tasks>::try_spawn(async {}, schedule).is_ok_and(|(r, t)| {
            r.run();
            t.is_finished()
        })
    );
}
