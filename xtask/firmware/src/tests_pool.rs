//! pool on the Cortex-M4: allocation, FIFO hand-off, and a slot freed by the SysTick handler.

use core::cell::RefCell;
use core::sync::atomic::Ordering;

use critical_section::Mutex;
use pool::{Box, Pool, pool};

use crate::{Test, exec, isr};

pub const TESTS: &[Test] = &[
    ("pool::alloc_free_reuse", alloc_free_reuse),
    ("pool::over_aligned_slots", over_aligned_slots),
    (
        "pool::waiter_gets_slot_freed_by_systick",
        waiter_gets_slot_freed_by_systick,
    ),
];

pool!(Small: [u32; 4]);

fn alloc_free_reuse() {
    let boxes: [Option<Box<Small>>; 4] = core::array::from_fn(|i| Box::new(i as u32));
    assert!(boxes.iter().all(Option::is_some));
    assert_eq!(Small::free_slots(), 0);
    assert!(Box::<Small>::new(9).is_none(), "full pool");
    let Err(back) = Box::<Small>::try_new(7) else {
        panic!("full pool must give the value back")
    };
    assert_eq!(back, 7);
    drop(boxes);
    assert_eq!(Small::free_slots(), 4);
    let b = Box::<Small>::new(5).unwrap();
    assert_eq!(*b, 5);
}

#[repr(align(64))]
struct Aligned(#[allow(dead_code)] u8);

pool!(AlignedPool: [Aligned; 3]);

fn over_aligned_slots() {
    let boxes: [Box<AlignedPool>; 3] = core::array::from_fn(|_| Box::new(Aligned(1)).unwrap());
    for b in &boxes {
        assert_eq!(
            Box::as_ptr(b).as_ptr() as usize % 64,
            0,
            "slot keeps T's alignment"
        );
    }
}

pool!(One: [u32; 1], 2);

static HELD: Mutex<RefCell<Option<Box<One>>>> = Mutex::new(RefCell::new(None));

fn waiter_gets_slot_freed_by_systick() {
    let first = Box::<One>::new(1).unwrap();
    critical_section::with(|cs| *HELD.borrow_ref_mut(cs) = Some(first));
    isr::set_hook(|| {
        // In the handler: free the slot once a task waits for it.
        if One::waiting() > 0 {
            drop(critical_section::with(|cs| HELD.borrow_ref_mut(cs).take()));
        }
    });
    let (second, polls) = exec::block_on(Box::<One>::new_async(2));
    let second = second.expect("a waiter place was free");
    assert_eq!(*second, 2);
    assert_eq!(
        isr::LAST_VECTOR.load(Ordering::Relaxed),
        15,
        "freed in the SysTick handler"
    );
    assert!(polls <= 3, "woken once by the hand-off ({polls} polls)");
    assert_eq!(One::waiting(), 0);
}
