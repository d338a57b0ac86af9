//! pool on the Cortex-M4: allocation, FIFO hand-off, and a slot freed by the SysTick handler.

use core::cell::RefCell;
use core::sync::atomic::{AtomicUsize, Ordering};

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
    (
        "pool::systick_allocates_while_thread_mode_churns",
        systick_allocates_while_thread_mode_churns,
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

pool!(Shared: [u32; 4]);

/// What the handler writes into the slots it gets.
const ISR_MARK: u32 = 0xA5A5_0000;
static ISR_ALLOCS: AtomicUsize = AtomicUsize::new(0);
static ISR_FULL: AtomicUsize = AtomicUsize::new(0);

/// `Box::new` and drop from an interrupt handler that preempts thread-mode code in the middle of
/// its own allocations and frees (the bitmap CAS loops): no slot is ever handed out twice, the
/// handler never blocks, and every slot comes back.
fn systick_allocates_while_thread_mode_churns() {
    isr::set_hook(|| {
        let tick = u32::try_from(isr::ticks()).unwrap_or(0) & 0xFFFF;
        // Nothing preempts the handler, so the check that catches a slot handed out twice is
        // thread mode's: the handler's write would overwrite a value thread mode still holds.
        match Box::<Shared>::new(ISR_MARK | tick) {
            Some(b) => {
                assert_eq!(*b, ISR_MARK | tick);
                ISR_ALLOCS.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                ISR_FULL.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let mut rounds = 0u32;
    while ISR_ALLOCS.load(Ordering::Relaxed) < 50 {
        rounds += 1;
        let boxes: [Option<Box<Shared>>; 3] =
            core::array::from_fn(|i| Box::new(rounds * 4 + i as u32));
        for (i, b) in boxes.iter().enumerate() {
            if let Some(b) = b {
                assert_eq!(**b, rounds * 4 + i as u32, "slot shared with the handler");
            }
        }
        assert!(rounds < 5_000_000, "the handler never got a slot");
    }
    isr::clear_hook();
    assert_eq!(Shared::free_slots(), 4, "every slot came back");
    assert!(ISR_ALLOCS.load(Ordering::Relaxed) >= 50);
}
