//! SysTick as an interrupt source: tests install a hook that the handler calls every tick.

use core::cell::Cell;
use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use critical_section::Mutex;

static HOOK: Mutex<Cell<Option<fn()>>> = Mutex::new(Cell::new(None));
static TICKS: AtomicUsize = AtomicUsize::new(0);
/// Exception number seen by the last hook call (0 would mean thread mode).
pub static LAST_VECTOR: AtomicUsize = AtomicUsize::new(0);

/// Starts SysTick at about 1 kHz (the mps2-an386 system clock is 25 MHz).
pub fn init() {
    let mut core = cortex_m::Peripherals::take().expect("taken once");
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(25_000 - 1);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();
}

/// Installs `hook`, called from the SysTick handler on every tick until cleared.
pub fn set_hook(hook: fn()) {
    critical_section::with(|cs| HOOK.borrow(cs).set(Some(hook)));
}

/// Removes the hook.
pub fn clear_hook() {
    critical_section::with(|cs| HOOK.borrow(cs).set(None));
}

/// Ticks since start.
pub fn ticks() -> usize {
    TICKS.load(Ordering::Relaxed)
}

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
    let hook = critical_section::with(|cs| HOOK.borrow(cs).get());
    if let Some(hook) = hook {
        let vector = match cortex_m::peripheral::SCB::vect_active() {
            cortex_m::peripheral::scb::VectActive::ThreadMode => 0,
            cortex_m::peripheral::scb::VectActive::Exception(_) => 15,
            cortex_m::peripheral::scb::VectActive::Interrupt { irqn } => 16 + usize::from(irqn),
        };
        LAST_VECTOR.store(vector, Ordering::Relaxed);
        hook();
    }
}
