//! Model-based property test of a boxed hatch: random sequences of sends (plain and
//! overwriting), receives, futures polled once and then dropped (cancelled), closes, handle drops
//! and recycling, checked after every step against a plain reference model: the slot's content,
//! which side is open, and which values have been dropped (each exactly once).

use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use hatch::{Closed, Receiver, SendError, Sender};
use proptest::prelude::*;
use sync_core::testing::WakeCounter;

/// Ids of dropped values, to check that each is dropped exactly once.
static DROPPED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

#[derive(Debug, PartialEq)]
struct Tracked(u32);

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPPED.lock().unwrap().push(self.0);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Send { overwrite: bool },
    SendPolledOnce,
    Receive,
    ReceivePolledOnce,
    CloseSender,
    DropSender,
    DropReceiver,
    SenderRecycles,
    ReceiverRecycles,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(|overwrite| Op::Send { overwrite }),
        2 => Just(Op::SendPolledOnce),
        4 => Just(Op::Receive),
        2 => Just(Op::ReceivePolledOnce),
        1 => Just(Op::CloseSender),
        1 => Just(Op::DropSender),
        1 => Just(Op::DropReceiver),
        1 => Just(Op::SenderRecycles),
        1 => Just(Op::ReceiverRecycles),
    ]
}

/// The real handles and the model of the hatch they share.
struct Harness {
    sender: Option<Sender<'static, Tracked>>,
    receiver: Option<Receiver<'static, Tracked>>,
    /// The value in the slot.
    slot: Option<u32>,
    /// The sender closed or was dropped (receives end in `Closed` once the slot is empty).
    sender_closed: bool,
    next_id: u32,
    /// Values that must have been dropped.
    gone: Vec<u32>,
}

impl Harness {
    fn new() -> Self {
        let (s, r) = hatch::hatch();
        Self {
            sender: Some(s),
            receiver: Some(r),
            slot: None,
            sender_closed: false,
            next_id: 0,
            gone: Vec::new(),
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// The outcome the model expects of a send that does not wait.
    fn expect_send(&mut self, id: u32, overwrite: bool) -> Result<(), &'static str> {
        if self.receiver.is_none() || self.sender_closed {
            self.gone.push(id);
            return Err("closed");
        }
        match self.slot {
            Some(_) if !overwrite => {
                self.gone.push(id);
                Err("full")
            }
            Some(old) => {
                self.gone.push(old);
                self.slot = Some(id);
                Ok(())
            }
            None => {
                self.slot = Some(id);
                Ok(())
            }
        }
    }

    /// The outcome the model expects of a receive that does not wait.
    fn expect_receive(&mut self) -> Result<Option<u32>, Closed> {
        match self.slot.take() {
            Some(id) => {
                self.gone.push(id);
                Ok(Some(id))
            }
            None if self.sender_closed => Err(Closed),
            None => Ok(None),
        }
    }

    /// Both handles are gone: the boxed hatch was freed with any value in it.
    fn maybe_freed(&mut self) {
        if self.sender.is_none() && self.receiver.is_none() {
            self.gone.extend(self.slot.take());
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Send { overwrite } => {
                let id = self.id();
                let Some(s) = self.sender.as_mut() else {
                    return;
                };
                s.set_overwrites(overwrite);
                let got = s.send(Tracked(id)).now();
                let expected = self.expect_send(id, overwrite);
                match (got, expected) {
                    (Ok(()), Ok(())) => {}
                    (Err(SendError::Closed(v)), Err("closed"))
                    | (Err(SendError::Full(v)), Err("full")) => assert_eq!(v.0, id),
                    (got, expected) => panic!("send: got {got:?}, model {expected:?}"),
                }
            }
            Op::SendPolledOnce => {
                let id = self.id();
                let Some(s) = self.sender.as_mut() else {
                    return;
                };
                s.set_overwrites(false);
                let wakes = WakeCounter::new();
                let waker = wakes.waker();
                let polled = pin!(s.send(Tracked(id))).poll(&mut Context::from_waker(&waker));
                // The future is dropped here: a pending send is cancelled and drops its value.
                match (polled, self.expect_send(id, false)) {
                    (Poll::Ready(Ok(())), Ok(())) | (Poll::Pending, Err("full")) => {}
                    (Poll::Ready(Err(SendError::Closed(v))), Err("closed")) => {
                        assert_eq!(v.0, id);
                    }
                    (got, expected) => panic!("send future: got {got:?}, model {expected:?}"),
                }
                assert_eq!(wakes.wakes(), 0, "nobody woke the cancelled send");
            }
            Op::Receive => {
                let Some(r) = self.receiver.as_mut() else {
                    return;
                };
                let got = r.receive().now().map(|v| v.map(|t| t.0));
                assert_eq!(got, self.expect_receive(), "receive");
            }
            Op::ReceivePolledOnce => {
                let Some(r) = self.receiver.as_mut() else {
                    return;
                };
                let wakes = WakeCounter::new();
                let waker = wakes.waker();
                let polled = pin!(r.receive()).poll(&mut Context::from_waker(&waker));
                let got = match polled {
                    Poll::Ready(Ok(t)) => Ok(Some(t.0)),
                    Poll::Ready(Err(Closed)) => Err(Closed),
                    Poll::Pending => Ok(None),
                };
                assert_eq!(got, self.expect_receive(), "receive future");
                assert_eq!(wakes.wakes(), 0, "nobody woke the cancelled receive");
            }
            Op::CloseSender => {
                let Some(s) = self.sender.as_mut() else {
                    return;
                };
                s.close();
                self.sender_closed = true;
                assert!(s.send(Tracked(0)).now().unwrap_err().is_closed());
                self.gone.push(0);
            }
            Op::DropSender => {
                if self.sender.take().is_some() {
                    self.sender_closed = true;
                    self.maybe_freed();
                }
            }
            Op::DropReceiver => {
                if self.receiver.take().is_some() {
                    self.maybe_freed();
                }
            }
            Op::SenderRecycles => {
                let Some(s) = self.sender.as_mut() else {
                    return;
                };
                let recycled = s.recycle();
                assert_eq!(recycled.is_ok(), self.receiver.is_none(), "sender recycles");
                if let Ok(r) = recycled {
                    self.receiver = Some(r);
                    self.sender_closed = false;
                }
            }
            Op::ReceiverRecycles => {
                let Some(r) = self.receiver.as_mut() else {
                    return;
                };
                let recycled = r.recycle();
                assert_eq!(recycled.is_ok(), self.sender.is_none(), "receiver recycles");
                if let Ok(s) = recycled {
                    self.sender = Some(s);
                    self.sender_closed = false;
                }
            }
        }
    }

    fn check(&self) {
        if let Some(r) = &self.receiver {
            assert_eq!(r.has_value(), self.slot.is_some(), "slot full");
        }
        if let Some(s) = &self.sender {
            assert_eq!(s.is_closed(), self.receiver.is_none() || self.sender_closed);
        }
        let mut dropped = DROPPED.lock().unwrap().clone();
        let mut gone = self.gone.clone();
        dropped.sort_unstable();
        gone.sort_unstable();
        assert_eq!(
            dropped, gone,
            "every gone value dropped exactly once, live ones not at all"
        );
    }
}

fn run(ops: &[Op]) {
    DROPPED.lock().unwrap().clear();
    let mut h = Harness::new();
    h.check();
    for op in ops {
        h.apply(op);
        h.check();
    }
    // Tear-down: the last handle frees the hatch and drops a pending value, once.
    let pending = h.slot;
    let mut gone = std::mem::take(&mut h.gone);
    gone.extend(pending);
    drop(h);
    let mut dropped = DROPPED.lock().unwrap().clone();
    dropped.sort_unstable();
    gone.sort_unstable();
    assert_eq!(
        dropped, gone,
        "after the last handle, every value dropped exactly once"
    );
}

proptest! {
    // A few cases under miri, which is slow; no failure files (miri isolates the file system,
    // and the minimal failing input is printed anyway).
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hatch_matches_its_model(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops);
    }
}
