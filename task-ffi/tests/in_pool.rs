//! Tasks in the slots of a `pool` pool: full pools give the arguments back, a waiting spawn gets
//! the slot of the next destroyed task (backpressure), cancelled waits hold nothing.

use std::sync::Mutex;

use futures_lite::future::{block_on, poll_once};
use pool::{Pool, pool};
use task_ffi::{InPool, Occupied, Runnable, TaskBlock};

pool!(Two: [TaskBlock<256>; 2], 2);
pool!(One: [TaskBlock<256>; 1], 1);
pool!(NoWait: [TaskBlock<256>; 1]);

/// The pools are process-wide: one test at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_full_pool_gives_the_arguments_back_and_frees_slots_on_destroy() {
    let _s = serial();
    let (r1, t1) = InPool::<Two>::try_spawn_with(async { 1 }, |_: Runnable<(), u8>| {}, 1).unwrap();
    let (r2, t2) = InPool::<Two>::try_spawn_with(async { 2 }, |_: Runnable<(), u8>| {}, 2).unwrap();
    assert_eq!(Two::free_slots(), 0);
    let Err(Occupied { future, data, .. }) =
        InPool::<Two>::try_spawn_with(async { 3 }, |_: Runnable<(), u8>| {}, 3)
    else {
        panic!("spawned into a full pool");
    };
    assert_eq!((block_on(future), data), (3, 3));
    assert_eq!((*r1.data(), *r2.data()), (1, 2));
    r1.run();
    assert_eq!(block_on(t1), 1);
    assert_eq!(Two::free_slots(), 1);
    drop(r2);
    drop(t2);
    assert_eq!(Two::free_slots(), 2);
}

#[test]
fn a_waiting_spawn_gets_the_slot_of_the_next_destroyed_task() {
    let _s = serial();
    let (runnable, task) = InPool::<One>::try_spawn(async { 1 }, |_: Runnable| {}).unwrap();
    let mut waiting = Box::pin(InPool::<One>::spawn(async { 2 }, |_: Runnable| {}));
    assert!(block_on(poll_once(waiting.as_mut())).is_none());
    assert_eq!(One::waiting(), 1);
    runnable.run();
    assert!(
        block_on(poll_once(waiting.as_mut())).is_none(),
        "the Task still holds it"
    );
    assert_eq!(block_on(task), 1);
    let (runnable, task) = block_on(poll_once(waiting.as_mut())).unwrap().unwrap();
    assert_eq!(One::free_slots(), 0);
    runnable.run();
    assert_eq!(block_on(task), 2);
    assert_eq!(One::free_slots(), 1);
}

#[test]
fn a_cancelled_wait_passes_its_slot_on() {
    let _s = serial();
    let (runnable, task) = InPool::<One>::try_spawn(async { 1 }, |_: Runnable| {}).unwrap();
    let mut waiting = Box::pin(InPool::<One>::spawn(async { 2 }, |_: Runnable| {}));
    assert!(block_on(poll_once(waiting.as_mut())).is_none());
    drop(runnable);
    drop(task);
    drop(waiting);
    assert_eq!((One::free_slots(), One::waiting()), (1, 0));
}

#[test]
fn a_pool_without_waiter_places_refuses_instead_of_waiting() {
    let _s = serial();
    let (runnable, task) = InPool::<NoWait>::try_spawn(async { 1 }, |_: Runnable| {}).unwrap();
    let refused = block_on(InPool::<NoWait>::spawn(async { 2 }, |_: Runnable| {}));
    assert!(refused.is_err());
    runnable.run();
    assert_eq!(block_on(task), 1);
    let (runnable, task) =
        block_on(InPool::<NoWait>::spawn(async { 3 }, |_: Runnable| {})).unwrap();
    runnable.run();
    assert_eq!(block_on(task), 3);
}
