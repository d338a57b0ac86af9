//! SysTick as the "sensor interrupt": at 1 kHz the handler takes a reading (a synthetic
//! 12-bit ADC value) and hands it to the waiting sampler task with
//! [`sync_core::WaitQueue::notify_one`] — the reading is the token. That is all the handler
//! does: no allocation, no hatch (the hatch's spin lock must not be shared between an interrupt
//! handler and the code it preempts), no waker code beyond one wake.
//!
//! When the sampler is not waiting at that moment (it is handing a full block over), the
//! reading is counted as missed, like an ADC overrun.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use sync_core::WaitQueue;

/// The sampler task waits here for the next reading.
pub static READINGS: WaitQueue<1> = WaitQueue::new();
/// Readings taken while enabled.
pub static TAKEN: AtomicUsize = AtomicUsize::new(0);
/// Readings nobody was waiting for.
pub static MISSED: AtomicUsize = AtomicUsize::new(0);
static ENABLED: AtomicBool = AtomicBool::new(false);
static TICKS: AtomicUsize = AtomicUsize::new(0);

/// Starts SysTick at 1 kHz (the mps2-an386 system clock is 25 MHz).
pub fn start(mut syst: cortex_m::peripheral::SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(25_000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    ENABLED.store(true, Ordering::Release);
}

/// Stops taking readings (SysTick keeps ticking, which is harmless).
pub fn stop() {
    ENABLED.store(false, Ordering::Release);
}

/// Milliseconds since [`start`].
pub fn millis() -> usize {
    TICKS.load(Ordering::Relaxed)
}

/// The synthetic reading at tick `t`: a triangle wave between 100 and 4000 plus some ripple.
fn reading(t: usize) -> usize {
    let phase = t % 200;
    let tri = if phase < 100 { phase } else { 200 - phase };
    100 + tri * 39 + (t * 7) % 13
}

#[exception]
fn SysTick() {
    let t = TICKS.fetch_add(1, Ordering::Relaxed);
    if ENABLED.load(Ordering::Acquire) {
        TAKEN.fetch_add(1, Ordering::Relaxed);
        if READINGS.notify_one(reading(t)).is_err() {
            MISSED.fetch_add(1, Ordering::Relaxed);
        }
    }
}
