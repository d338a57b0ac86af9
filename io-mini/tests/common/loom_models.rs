//! The loom models that hold for both arming protocols (`poll(2)`'s snapshot and epoll's
//! one-shot arming): included by `loom_handoff.rs` and `loom_epoll.rs`, whose own `Kernel`,
//! `Reactor` and `start` model the backend.

use std::future::poll_fn;
use std::task::Poll;

use io_mini::registry::{Direction, FileId, Key, NIL, WaiterId};
use loom::sync::Arc;
use sync_core::sync::atomic::{AtomicU16, Ordering::SeqCst};
use sync_core::sync::loom_only::{model, thread};

use super::{Kernel, Reactor, start};

pub(super) fn stop(kernel: &Kernel, reactor: thread::JoinHandle<()>) {
    kernel.update(|st| st.stop = true);
    reactor.join().unwrap();
}

/// `read_with`: try the "read", wait for readability on `WouldBlock`, retry. Data arriving
/// between the failed read and the registration (with epoll: the level-triggered arming) must
/// not be lost. After the deregistration the backend holds nothing of the fd ([`super::unwatched`]).
#[test]
fn read_with_is_woken_by_data_arriving_at_any_time() {
    model(|| {
        let (core, kernel, reactor) = start();
        let key = core.register(3, FileId::UNKNOWN).unwrap();
        let producer = thread::spawn({
            let kernel = kernel.clone();
            move || kernel.update(|st| st.readable = true)
        });
        wait_readable(&core, &kernel, key);
        producer.join().unwrap();
        core.deregister(key, [None, None]);
        assert_eq!(core.usage(), (0, 0));
        super::unwatched(&kernel);
        stop(&kernel, reactor);
    });
}

/// The `AsyncRead` loop: "read" (which consumes the readable level) and, on `WouldBlock`,
/// re-arm the parked place ([`Core::poll_rearm`]). Two messages arrive, the second only after
/// the first was read: both are read whatever the interleaving. The place woken for the first
/// message is stale when the loop waits for the second and is re-armed, not reported ready;
/// real readiness is never lost. With epoll the one-shot report that woke the place for the first
/// message disarmed the fd, so the re-arm for the second must arm it again.
#[test]
fn rearmed_reads_get_every_message() {
    model(|| {
        let (core, kernel, reactor) = start();
        let key = core.register(3, FileId::UNKNOWN).unwrap();
        let producer = thread::spawn({
            let kernel = kernel.clone();
            move || {
                kernel.update(|st| st.readable = true);
                let mut st = kernel.state.lock().unwrap();
                while st.readable {
                    st = kernel.cv.wait(st).unwrap();
                }
                st.readable = true;
                drop(st);
                kernel.cv.notify_all();
            }
        });
        let mut parked: Option<WaiterId> = None;
        for _ in 0..2 {
            loom::future::block_on(poll_fn(|cx| {
                loop {
                    let mut st = kernel.state.lock().unwrap();
                    if st.readable {
                        st.readable = false;
                        drop(st);
                        kernel.cv.notify_all();
                        return Poll::Ready(());
                    }
                    drop(st);
                    match core.poll_rearm(key, Direction::Read, &mut parked, cx.waker()) {
                        Poll::Ready(res) => res.unwrap(),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }));
        }
        producer.join().unwrap();
        core.deregister(key, [parked.take(), None]);
        assert_eq!(core.usage(), (0, 0));
        stop(&kernel, reactor);
    });
}

/// Waits (through [`Core::poll_wait`](io_mini::reactor::Core::poll_wait)) until the fake
/// kernel says `key` is readable, then gives up the waiter place if one is left.
pub(super) fn wait_readable(core: &Reactor, kernel: &Kernel, key: Key) {
    let mut id: Option<WaiterId> = None;
    loom::future::block_on(poll_fn(|cx| {
        loop {
            if kernel.state.lock().unwrap().readable {
                return Poll::Ready(());
            }
            match core.poll_wait(key, Direction::Read, &mut id, cx.waker()) {
                Poll::Ready(res) => res.unwrap(),
                Poll::Pending => return Poll::Pending,
            }
        }
    }));
    if let Some(id) = id.take() {
        core.cancel(id);
    }
}

/// One task of [`two_readers_sharing_a_parked_place_both_complete`]: reads one message,
/// waiting through the shared `parked` place; `send` queues both messages after its first
/// `Pending`.
fn read_one(core: &Reactor, kernel: &Kernel, parked: &AtomicU16, key: Key, send: bool) {
    let mut sent = !send;
    loom::future::block_on(poll_fn(|cx| {
        loop {
            let mut st = kernel.state.lock().unwrap();
            if st.messages > 0 {
                st.messages -= 1;
                st.readable = st.messages > 0;
                drop(st);
                kernel.cv.notify_all();
                return Poll::Ready(());
            }
            drop(st);
            match core.poll_parked(parked, key, Direction::Read, cx.waker(), true) {
                Poll::Ready(res) => res.unwrap(),
                Poll::Pending => {
                    if !sent {
                        sent = true;
                        kernel.update(|st| {
                            st.messages = 2;
                            st.readable = true;
                        });
                    }
                    return Poll::Pending;
                }
            }
        }
    }));
}

/// Two tasks reading through one `&Async` share its parked place ([`Core::poll_parked`] with
/// re-arm, as `AsyncRead` does): whichever stores its waker last displaces the other's, which
/// must be woken, not dropped; two tasks parking at the same time must not lose a place or a
/// waker either. Each task reads one message; the second task sends both once it has polled.
/// A lost wake-up leaves a task blocked forever, which loom reports as a deadlock.
#[test]
fn two_readers_sharing_a_parked_place_both_complete() {
    model(|| {
        let (core, kernel, reactor) = start();
        let key = core.register(3, FileId::UNKNOWN).unwrap();
        let parked = Arc::new(AtomicU16::new(NIL));
        let other = thread::spawn({
            let (core, kernel, parked) = (core.clone(), kernel.clone(), parked.clone());
            move || read_one(&core, &kernel, &parked, key, true)
        });
        read_one(&core, &kernel, &parked, key, false);
        other.join().unwrap();
        let raw = parked.swap(NIL, SeqCst);
        core.deregister(key, [(raw != NIL).then(|| WaiterId::from_raw(raw)), None]);
        assert_eq!(core.usage(), (0, 0), "no place leaked");
        stop(&kernel, reactor);
    });
}
