//! loom models of the arming protocol (the epoll backend, `registry/armed.rs`): the registry,
//! its lock and the one-shot arming, with the epoll set modelled by a mutex and condvar ("the
//! kernel"). Like epoll with `EPOLLONESHOT`: an fd is reported once it is armed and readable,
//! which disarms it.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --profile loom -p io-mini
//! --test loom_epoll`.
#![cfg(loom)]

use std::future::poll_fn;
use std::io;
use std::task::Poll;

use io_mini::reactor::{Core, Wakeup};
use io_mini::registry::{Direction, FileId, Key, READ, WRITE, WaiterId};
use loom::sync::{Arc, Condvar, Mutex};
use sync_core::sync::loom_only::{model, thread};

#[derive(Default)]
struct KState {
    /// The socket's readability and writability (levels).
    readable: bool,
    writable: bool,
    /// Messages queued on the socket.
    messages: u32,
    /// The directions armed in the epoll set, and the tag they report with.
    armed: u8,
    tag: Option<Key>,
    stop: bool,
}

struct Kernel {
    state: Mutex<KState>,
    cv: Condvar,
}

impl Kernel {
    fn update(&self, f: impl FnOnce(&mut KState)) {
        f(&mut self.state.lock().unwrap());
        self.cv.notify_all();
    }
}

/// `epoll_ctl`.
struct Hook(Arc<Kernel>);

impl Wakeup for Hook {
    const ARMS: bool = true;

    fn wakeup(&self) {}

    fn watch(&self, _fd: i32, key: Key, dirs: u8) -> io::Result<()> {
        self.arm(3, key, dirs)
    }

    fn arm(&self, _fd: i32, key: Key, dirs: u8) -> io::Result<()> {
        self.0.update(|st| {
            st.armed = dirs;
            st.tag = Some(key);
        });
        Ok(())
    }

    fn unwatch(&self, _fd: i32) {
        self.0.update(|st| {
            st.armed = 0;
            st.tag = None;
        });
    }
}

type Reactor = Core<2, 2, Hook>;

/// Asserts the fd left the epoll set with its last registration.
fn unwatched(kernel: &Kernel) {
    assert_eq!(kernel.state.lock().unwrap().tag, None, "unwatched");
}

#[path = "common/loom_models.rs"]
mod models;

use models::stop;

/// The reactor thread's loop as in the epoll backend: "epoll_wait" (an fd with an armed
/// direction that is ready is reported once, with its ready armed directions, and disarmed
/// entirely), then [`Core::dispatch_events`]; until `stop`.
fn reactor_thread(core: Arc<Reactor>, kernel: Arc<Kernel>) {
    loop {
        let (key, dirs) = {
            let mut st = kernel.state.lock().unwrap();
            let dirs = loop {
                if st.stop {
                    return;
                }
                let level =
                    if st.readable { READ } else { 0 } | if st.writable { WRITE } else { 0 };
                if st.armed & level != 0 {
                    break st.armed & level;
                }
                st = kernel.cv.wait(st).unwrap();
            };
            st.armed = 0;
            (st.tag.expect("an armed fd has a tag"), dirs)
        };
        core.dispatch_events(&[(key, 3, dirs)]);
    }
}

fn start() -> (Arc<Reactor>, Arc<Kernel>, thread::JoinHandle<()>) {
    let kernel = Arc::new(Kernel {
        state: Mutex::new(KState::default()),
        cv: Condvar::new(),
    });
    let core = Arc::new(Core::new(Hook(kernel.clone())));
    let reactor = thread::spawn({
        let (core, kernel) = (core.clone(), kernel.clone());
        move || reactor_thread(core, kernel)
    });
    (core, kernel, reactor)
}

/// A reader and a writer wait on the two directions of one fd. The report that wakes one of
/// them disarms the whole fd (one-shot): the reactor must re-arm the direction still waited
/// for, or the other task is never woken.
#[test]
fn a_report_for_one_direction_rearms_the_other() {
    model(|| {
        let (core, kernel, reactor) = start();
        let key = core.register(3, FileId::UNKNOWN).unwrap();
        let writer = thread::spawn({
            let (core, kernel) = (core.clone(), kernel.clone());
            move || {
                let mut id: Option<WaiterId> = None;
                let mut made_readable = false;
                loom::future::block_on(poll_fn(|cx| {
                    loop {
                        if kernel.state.lock().unwrap().writable {
                            return Poll::Ready(());
                        }
                        match core.poll_wait(key, Direction::Write, &mut id, cx.waker()) {
                            Poll::Ready(res) => res.unwrap(),
                            Poll::Pending => {
                                if !made_readable {
                                    // Both wait now (or soon): the read side fires first.
                                    made_readable = true;
                                    kernel.update(|st| st.readable = true);
                                }
                                return Poll::Pending;
                            }
                        }
                    }
                }));
                if let Some(id) = id.take() {
                    core.cancel(id);
                }
            }
        });
        models::wait_readable(&core, &kernel, key);
        // The read side has been reported; now the write side becomes ready.
        kernel.update(|st| st.writable = true);
        writer.join().unwrap();
        core.deregister(key, [None, None]);
        assert_eq!(core.usage(), (0, 0));
        stop(&kernel, reactor);
    });
}
