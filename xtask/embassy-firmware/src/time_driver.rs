//! An `embassy-time` driver for the emulated board: SysTick ticks at 1 kHz (the mps2-an386 core
//! clock is 25 MHz), `now` counts the ticks, and each tick wakes the timers that are due.
//!
//! A periodic tick keeps the driver small (no alarm to reprogram); a timer is late by at most
//! one tick. A real board would use a free-running timer and a compare interrupt instead.

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

/// Core clock of mps2-an386 in QEMU, and the tick rate (`embassy-time`'s `tick-hz-1_000`).
const CORE_HZ: u32 = 25_000_000;
const TICK_HZ: u32 = 1_000;

struct TickDriver {
    /// Ticks since `init` (a 64-bit counter: no 64-bit atomics on Cortex-M4).
    now: Mutex<Cell<u64>>,
    /// Wakers of pending timers, woken from the tick handler.
    queue: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: TickDriver = TickDriver {
    now: Mutex::new(Cell::new(0)),
    queue: Mutex::new(RefCell::new(Queue::new())),
});

impl Driver for TickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.now.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut queue = self.queue.borrow_ref_mut(cs);
            queue.schedule_wake(at, waker);
            // A timer that is already due is woken now rather than a tick late.
            queue.next_expiration(self.now.borrow(cs).get());
        });
    }
}

/// Starts the tick. Call once, before anything waits on `embassy_time`.
pub fn init(mut syst: cortex_m::peripheral::SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CORE_HZ / TICK_HZ - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Runs on every tick (exception priority: preempts the tasks in thread mode).
pub static TICK_HOOK: Mutex<Cell<Option<fn(u64)>>> = Mutex::new(Cell::new(None));

#[exception]
fn SysTick() {
    let (now, hook) = critical_section::with(|cs| {
        let now = DRIVER.now.borrow(cs).get() + 1;
        DRIVER.now.borrow(cs).set(now);
        DRIVER.queue.borrow_ref_mut(cs).next_expiration(now);
        (now, TICK_HOOK.borrow(cs).get())
    });
    if let Some(hook) = hook {
        hook(now);
    }
}
