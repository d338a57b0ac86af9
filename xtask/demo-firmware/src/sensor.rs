//! SysTick as the "sensor interrupt": at 1 kHz the handler takes a reading (a synthetic
//! 12-bit ADC value) and sends it on the [`READINGS`] hatch with `send(..).now()`.
//!
//! A hatch is safe to use from an interrupt handler on bare metal: its internal lock is held
//! inside a critical section, so the handler never spins on a lock held by the task it
//! preempted (see hatch's "Interrupt handlers" docs). The sampler task awaits
//! `receive()`; the send wakes it, and the executor polls it once the handler returns.
//!
//! The hatch buffers one reading. When the previous reading has not been taken yet (the
//! sampler is busy handing a full block over), `now()` fails with `Full` and the new reading
//! is counted as missed, like an ADC overrun; the handler never waits. Once the sampler has
//! dropped its receiver, the send fails with `Closed` and the handler drops its sender.

use core::cell::RefCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use critical_section::Mutex;
use hatch::{Hatch, Receiver, SendError, Sender};

/// Readings, SysTick handler → sampler task.
static READINGS: Hatch<u16> = Hatch::new();
/// The sending half, owned by the handler while sampling.
static SENDER: Mutex<RefCell<Option<Sender<'static, u16>>>> = Mutex::new(RefCell::new(None));
/// Readings sent.
pub static SENT: AtomicUsize = AtomicUsize::new(0);
/// Readings dropped because the previous one was still in the hatch.
pub static MISSED: AtomicUsize = AtomicUsize::new(0);
static TICKS: AtomicUsize = AtomicUsize::new(0);

/// Starts SysTick at 1 kHz (the mps2-an386 system clock is 25 MHz) and returns the receiving
/// half of the readings hatch.
pub fn start(mut syst: cortex_m::peripheral::SYST) -> Receiver<'static, u16> {
    let (sender, receiver) = READINGS.try_split().expect("started once");
    critical_section::with(|cs| *SENDER.borrow_ref_mut(cs) = Some(sender));
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(25_000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    receiver
}

/// Stops sampling: the handler drops its sender, so a waiting receiver sees the hatch closed.
pub fn stop() {
    let sender = critical_section::with(|cs| SENDER.borrow_ref_mut(cs).take());
    drop(sender);
}

/// Milliseconds since [`start`].
pub fn millis() -> usize {
    TICKS.load(Ordering::Relaxed)
}

/// The synthetic reading at tick `t`: a triangle wave between 100 and 4000 plus some ripple.
fn reading(t: usize) -> u16 {
    let phase = t % 200;
    let tri = if phase < 100 { phase } else { 200 - phase };
    (100 + tri * 39 + (t * 7) % 13) as u16
}

#[exception]
fn SysTick() {
    let t = TICKS.fetch_add(1, Ordering::Relaxed);
    critical_section::with(|cs| {
        let mut slot = SENDER.borrow_ref_mut(cs);
        let Some(sender) = slot.as_mut() else { return };
        match sender.send(reading(t)).now() {
            Ok(()) => {
                SENT.fetch_add(1, Ordering::Relaxed);
            }
            Err(SendError::Full(_)) => {
                MISSED.fetch_add(1, Ordering::Relaxed);
            }
            // The sampler has all it needs and dropped its receiver: stop sending.
            Err(SendError::Closed(_)) => *slot = None,
        }
    });
}
