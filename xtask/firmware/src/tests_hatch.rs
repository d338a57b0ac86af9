//! hatch on the Cortex-M4: a static hatch reused and recycled, and a value sent from SysTick.

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use critical_section::Mutex;
use hatch::{Closed, Hatch, Receiver, SendError, Sender, SharedHatch};

use crate::{Test, exec, isr};

pub const TESTS: &[Test] = &[
    (
        "hatch::send_receive_reuse_recycle",
        send_receive_reuse_recycle,
    ),
    (
        "hatch::receive_woken_by_send_from_systick",
        receive_woken_by_send_from_systick,
    ),
    (
        "hatch::systick_receives_then_drops_the_receiver",
        systick_receives_then_drops_the_receiver,
    ),
    (
        "hatch::systick_sends_through_a_shared_hatch",
        systick_sends_through_a_shared_hatch,
    ),
];

static REUSED: Hatch<u32> = Hatch::new();

fn send_receive_reuse_recycle() {
    let (mut s, mut r) = REUSED.try_split().expect("a new hatch is free");
    for i in 0..10 {
        s.send(i).now().unwrap();
        assert_eq!(exec::block_on(r.receive()).0, Ok(i));
    }
    drop(r);
    assert_eq!(s.send(42).now(), Err(SendError::Closed(42)));
    let mut r = s.recycle().expect("the receiver is gone");
    drop(s);
    assert_eq!(exec::block_on(r.receive()).0, Err(Closed));
}

static ISR_HATCH: Hatch<u32> = Hatch::new();
static ISR_SENDER: Mutex<RefCell<Option<Sender<'static, u32>>>> = Mutex::new(RefCell::new(None));

fn receive_woken_by_send_from_systick() {
    let (s, mut r) = ISR_HATCH.try_split().expect("a new hatch is free");
    critical_section::with(|cs| *ISR_SENDER.borrow_ref_mut(cs) = Some(s));
    isr::set_hook(|| {
        critical_section::with(|cs| {
            if let Some(s) = ISR_SENDER.borrow_ref_mut(cs).as_mut() {
                let _ = s.send(7).now();
            }
        });
    });
    let (value, polls) = exec::block_on(r.receive());
    assert_eq!(value, Ok(7));
    assert_eq!(
        isr::LAST_VECTOR.load(Ordering::Relaxed),
        15,
        "sent from the SysTick handler"
    );
    assert!(polls <= 2, "woken once by the send ({polls} polls)");
    isr::clear_hook();
    drop(critical_section::with(|cs| {
        ISR_SENDER.borrow_ref_mut(cs).take()
    }));
}

static RX_HATCH: Hatch<u32> = Hatch::new();
static ISR_RECEIVER: Mutex<RefCell<Option<Receiver<'static, u32>>>> =
    Mutex::new(RefCell::new(None));
static RECEIVED: AtomicU32 = AtomicU32::new(0);
static RECEIVED_SUM: AtomicU32 = AtomicU32::new(0);

/// The other direction: thread mode sends (`now()`, the lock-free path, preempted by the
/// handler), the SysTick handler receives with `now()` and, after ten values, drops the receiver
/// inside the handler; thread mode then sees the hatch closed and recycles a new receiver.
fn systick_receives_then_drops_the_receiver() {
    let (mut s, r) = RX_HATCH.try_split().expect("a new hatch is free");
    critical_section::with(|cs| *ISR_RECEIVER.borrow_ref_mut(cs) = Some(r));
    isr::set_hook(|| {
        critical_section::with(|cs| {
            let mut slot = ISR_RECEIVER.borrow_ref_mut(cs);
            let Some(r) = slot.as_mut() else { return };
            if let Ok(Some(v)) = r.receive().now() {
                RECEIVED_SUM.fetch_add(v, Ordering::Relaxed);
                if RECEIVED.fetch_add(1, Ordering::Relaxed) + 1 == 10 {
                    drop(slot.take());
                }
            }
        });
    });
    for i in 1..=10 {
        let mut value = i;
        loop {
            match s.send(value).now() {
                Ok(()) => break,
                Err(SendError::Full(v)) => {
                    value = v;
                    cortex_m::asm::wfi();
                }
                Err(SendError::Closed(v)) => panic!("closed before {v} was received"),
            }
        }
    }
    while !s.is_closed() {
        cortex_m::asm::wfi();
    }
    isr::clear_hook();
    assert_eq!(RECEIVED.load(Ordering::Relaxed), 10);
    assert_eq!(
        RECEIVED_SUM.load(Ordering::Relaxed),
        55,
        "each value received once"
    );
    assert_eq!(s.send(11).now(), Err(SendError::Closed(11)));
    let mut r = s
        .recycle()
        .expect("the receiver was dropped in the handler");
    s.send(12).now().unwrap();
    assert_eq!(exec::block_on(r.receive()).0, Ok(12));
}

static SHARED: SharedHatch<u32> = SharedHatch::new();
static SHARED_NEXT: AtomicU32 = AtomicU32::new(1);
static SHARED_FULL: AtomicU32 = AtomicU32::new(0);

/// The SysTick handler sends 1, 2, 3, … through `&'static SharedHatch` (no mutex around a
/// handle), retrying a value that found the slot full on its next tick; thread mode awaits each
/// value and must see them all, in order, each once.
fn systick_sends_through_a_shared_hatch() {
    // Before a receiver exists a send is refused with the value, not lost or panicking.
    assert_eq!(SHARED.send(0), Err(SendError::Closed(0)));
    let mut r = SHARED.receiver().expect("the first receiver");
    assert!(SHARED.receiver().is_err(), "one receiver at a time");
    isr::set_hook(|| {
        let v = SHARED_NEXT.load(Ordering::Relaxed);
        if v > 20 {
            return;
        }
        match SHARED.send(v) {
            Ok(()) => SHARED_NEXT.store(v + 1, Ordering::Relaxed),
            Err(SendError::Full(_)) => {
                SHARED_FULL.fetch_add(1, Ordering::Relaxed);
            }
            Err(SendError::Closed(_)) => {}
        }
    });
    for expected in 1..=20 {
        let (value, polls) = exec::block_on(r.receive());
        assert_eq!(
            value,
            Ok(expected),
            "values from the handler, in order, each once"
        );
        assert!(polls <= 2, "woken once by the send ({polls} polls)");
    }
    isr::clear_hook();
    assert_eq!(
        isr::LAST_VECTOR.load(Ordering::Relaxed),
        15,
        "sent from the SysTick handler"
    );
    drop(r);
    assert!(SHARED.send(99).unwrap_err().is_closed());
    let mut r = SHARED.receiver().expect("the receiver was dropped");
    assert_eq!(r.receive().now(), Ok(None));
}
