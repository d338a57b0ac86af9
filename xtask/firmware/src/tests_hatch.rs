//! hatch on the Cortex-M4: a static hatch reused and recycled, and a value sent from SysTick.

use core::cell::RefCell;
use core::sync::atomic::Ordering;

use critical_section::Mutex;
use hatch::{Closed, Hatch, SendError, Sender};

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
