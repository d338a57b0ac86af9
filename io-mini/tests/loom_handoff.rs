//! loom models of the hand-off between a task and the reactor thread: the registry, its lock
//! and the wake-up protocol, with `poll(2)` and the eventfd modelled by a mutex and condvar
//! ("the kernel"). Level-triggered like `poll(2)`: a watched fd that is readable makes the
//! "poll" return at once.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --profile loom -p io-mini
//! --test loom_handoff`.
#![cfg(loom)]

use std::future::poll_fn;
use std::task::Poll;

use io_mini::reactor::{Core, Wakeup};
use io_mini::registry::{Direction, FileId, Interest, READ, WaiterId};
use loom::sync::{Arc, Condvar, Mutex};
use sync_core::sync::loom_only::{model, thread};
use sync_core::testing::WakeCounter;

#[derive(Default)]
struct KState {
    /// The eventfd counter.
    eventfd: u32,
    /// The socket's readability (level).
    readable: bool,
    /// Messages queued on the socket (`two_readers_sharing_a_parked_place_both_complete`).
    messages: u32,
    /// How many fds the reactor's current snapshot watches (`usize::MAX` before the first).
    watching: usize,
    stop: bool,
}

struct Kernel {
    state: Mutex<KState>,
    cv: Condvar,
}

impl Kernel {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(KState {
                watching: usize::MAX,
                ..KState::default()
            }),
            cv: Condvar::new(),
        })
    }

    fn update(&self, f: impl FnOnce(&mut KState)) {
        f(&mut self.state.lock().unwrap());
        self.cv.notify_all();
    }
}

/// The eventfd write.
struct Hook(Arc<Kernel>);

impl Wakeup for Hook {
    fn wakeup(&self) {
        self.0.update(|st| st.eventfd += 1);
    }
}

type Reactor = Core<2, 2, Hook>;

/// After a deregistration: `poll(2)` keeps nothing of an fd in the kernel (the reactor's
/// `pollfd` list is rebuilt from the registry each turn), so there is nothing to check.
fn unwatched(_: &Kernel) {}

#[path = "common/loom_models.rs"]
mod models;

use models::stop;

/// The reactor thread's loop as in the driver: snapshot once, then "poll" and
/// [`Core::turn`] (dispatch, wake, re-snapshot); until `stop`.
fn reactor_thread(core: Arc<Reactor>, kernel: Arc<Kernel>) {
    let mut interests = [Interest::EMPTY; 2];
    let mut n = core.snapshot(&mut interests);
    loop {
        let watched = &interests[..n];
        let readable = {
            let mut st = kernel.state.lock().unwrap();
            st.watching = n;
            kernel.cv.notify_all();
            loop {
                if st.stop {
                    return;
                }
                let ready = st.readable && watched.iter().any(|i| i.dirs & READ != 0);
                if st.eventfd > 0 || ready {
                    break;
                }
                st = kernel.cv.wait(st).unwrap();
            }
            st.eventfd = 0;
            st.readable
        };
        // Narrow to what "poll" reported: every watched fd shares the one readable level.
        for interest in &mut interests[..n] {
            interest.dirs &= if readable { READ } else { 0 };
        }
        n = core.turn(&mut interests, n);
    }
}

fn start() -> (Arc<Reactor>, Arc<Kernel>, thread::JoinHandle<()>) {
    let kernel = Kernel::new();
    let core = Arc::new(Core::new(Hook(kernel.clone())));
    let reactor = thread::spawn({
        let (core, kernel) = (core.clone(), kernel.clone());
        move || reactor_thread(core, kernel)
    });
    (core, kernel, reactor)
}

/// Two waiters on the same source and direction (as two `readable()` futures): both are woken
/// by one readiness event; neither evicts the other.
#[test]
fn two_waiters_on_one_direction_both_complete() {
    model(|| {
        let (core, kernel, reactor) = start();
        let key = core.register(3, FileId::UNKNOWN).unwrap();
        let mut ids: [Option<WaiterId>; 2] = [None, None];
        let mut done = [false; 2];
        let mut produced = false;
        loom::future::block_on(poll_fn(|cx| {
            for (id, done) in ids.iter_mut().zip(&mut done) {
                if !*done {
                    match core.poll_wait(key, Direction::Read, id, cx.waker()) {
                        Poll::Ready(res) => {
                            res.unwrap();
                            *done = true;
                        }
                        Poll::Pending => {}
                    }
                }
            }
            if !produced {
                // Data arrives once both waiters are registered (a `readable()` completes on
                // readiness seen after the call).
                produced = true;
                kernel.update(|st| st.readable = true);
            }
            if done == [true, true] {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        assert_eq!(ids, [None, None], "completed waiters freed their places");
        core.deregister(key, [None, None]);
        stop(&kernel, reactor);
    });
}

/// A waiter cancelled and its source removed while the reactor may be blocked watching the fd:
/// nobody is woken, and the reactor is made to drop the fd from its poll set.
#[test]
fn cancel_and_deregister_wake_nobody_and_release_the_fd() {
    model(|| {
        let (core, kernel, reactor) = start();
        let counter = WakeCounter::new();
        let key = core.register(3, FileId::UNKNOWN).unwrap();
        let mut id = None;
        let waker = counter.waker();
        assert!(
            core.poll_wait(key, Direction::Read, &mut id, &waker)
                .is_pending()
        );
        core.cancel(id.take().unwrap());
        core.deregister(key, [None, None]);
        // The reactor must end up watching nothing; if it stayed blocked on the removed fd
        // (no wake-up), this wait would deadlock and loom would report it.
        {
            let mut st = kernel.state.lock().unwrap();
            while st.watching != 0 {
                st = kernel.cv.wait(st).unwrap();
            }
        }
        stop(&kernel, reactor);
        drop(waker);
        assert_eq!(counter.wakes(), 0);
        assert_eq!(counter.live(), 0);
    });
}

/// Two sources: the task waits on the first while another thread removes the second, which
/// shrinks the part of the registry the reactor scans, and then makes the first readable. The
/// wait completes (no lost wake-up) and the reactor ends up watching nothing else.
#[test]
fn removing_the_last_source_while_waiting_on_another_loses_nothing() {
    model(|| {
        let (core, kernel, reactor) = start();
        let first = core.register(3, FileId::UNKNOWN).unwrap();
        let second = core.register(4, FileId::UNKNOWN).unwrap();
        let other = thread::spawn({
            let (core, kernel) = (core.clone(), kernel.clone());
            move || {
                core.deregister(second, [None, None]);
                kernel.update(|st| st.readable = true);
            }
        });
        let mut id: Option<WaiterId> = None;
        loom::future::block_on(poll_fn(|cx| {
            core.poll_wait(first, Direction::Read, &mut id, cx.waker())
        }))
        .unwrap();
        assert!(id.is_none());
        other.join().unwrap();
        assert_eq!(core.usage(), (1, 0));
        core.deregister(first, [None, None]);
        assert_eq!(core.usage(), (0, 0));
        stop(&kernel, reactor);
    });
}
