//! hatch: create + send + receive in one thread; cross-thread ping-pong on a reused channel.

use std::hint::black_box;
use std::thread;

use crate::harness::{Case, Impl};

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            group: "hatch",
            name: "create + send + receive (one thread)",
            iters: 1_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: create_send_receive_ours,
                },
                Impl {
                    name: "oneshot",
                    run: create_send_receive_oneshot,
                },
                Impl {
                    name: "oneshot 0.1",
                    run: create_send_receive_oneshot01,
                },
                Impl {
                    name: "tokio oneshot",
                    run: create_send_receive_tokio,
                },
                Impl {
                    name: "futures oneshot",
                    run: create_send_receive_futures,
                },
            ],
        },
        Case {
            group: "hatch",
            name: "send + receive on a reused channel (one thread)",
            iters: 2_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: reuse_ours,
                },
                Impl {
                    name: "embassy-sync Signal",
                    run: reuse_signal,
                },
                Impl {
                    name: "embassy-sync Channel<1>",
                    run: reuse_channel,
                },
            ],
        },
        Case {
            group: "hatch",
            name: "cross-thread ping-pong, per round trip",
            iters: 20_000,
            threads: true,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: ping_pong_ours,
                },
                Impl {
                    name: "oneshot",
                    run: ping_pong_oneshot,
                },
                Impl {
                    name: "tokio oneshot",
                    run: ping_pong_tokio,
                },
                Impl {
                    name: "futures oneshot",
                    run: ping_pong_futures,
                },
            ],
        },
    ]
}

fn create_send_receive_ours(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let (s, mut r) = hatch::hatch::<u64>();
        let sent = s.send_last(black_box(i)).is_ok();
        ok += u64::from(sent && r.receive().now() == Ok(Some(i)));
    }
    ok
}

fn create_send_receive_oneshot(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let (s, r) = oneshot::channel::<u64>();
        let sent = s.send(black_box(i)).is_ok();
        ok += u64::from(sent && r.try_recv() == Ok(i));
    }
    ok
}

fn create_send_receive_oneshot01(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let (s, r) = oneshot01::channel::<u64>();
        let sent = s.send(black_box(i)).is_ok();
        ok += u64::from(sent && r.try_recv() == Ok(i));
    }
    ok
}

fn create_send_receive_tokio(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let (s, mut r) = tokio::sync::oneshot::channel::<u64>();
        let sent = s.send(black_box(i)).is_ok();
        ok += u64::from(sent && r.try_recv() == Ok(i));
    }
    ok
}

fn create_send_receive_futures(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let (s, mut r) = futures_channel::oneshot::channel::<u64>();
        let sent = s.send(black_box(i)).is_ok();
        ok += u64::from(sent && r.try_recv() == Ok(Some(i)));
    }
    ok
}

fn reuse_ours(iters: u64) -> u64 {
    let (mut s, mut r) = hatch::hatch::<u64>();
    let mut ok = 0;
    for i in 0..iters {
        let sent = s.send(black_box(i)).now().is_ok();
        ok += u64::from(sent && r.receive().now() == Ok(Some(i)));
    }
    ok
}

/// embassy-sync's `Signal` (critical-section based, thread-safe like a hatch): signal, then take
/// the value without waiting.
fn reuse_signal(iters: u64) -> u64 {
    use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
    let signal = embassy_sync::signal::Signal::<CriticalSectionRawMutex, u64>::new();
    let mut ok = 0;
    for i in 0..iters {
        signal.signal(black_box(i));
        ok += u64::from(signal.try_take() == Some(i));
    }
    ok
}

/// embassy-sync's `Channel` of capacity one (critical-section based): send and receive without
/// waiting.
fn reuse_channel(iters: u64) -> u64 {
    use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
    let channel = embassy_sync::channel::Channel::<CriticalSectionRawMutex, u64, 1>::new();
    let mut ok = 0;
    for i in 0..iters {
        let sent = channel.try_send(black_box(i)).is_ok();
        ok += u64::from(sent && channel.try_receive() == Ok(i));
    }
    ok
}

/// One hatch each way, reused for every message; both threads block in `receive_blocking`.
fn ping_pong_ours(iters: u64) -> u64 {
    let (mut ping_s, mut ping_r) = hatch::hatch::<u64>();
    let (mut pong_s, mut pong_r) = hatch::hatch::<u64>();
    let echo = thread::spawn(move || {
        while let Ok(v) = ping_r.receive_blocking() {
            if pong_s.send(v + 1).now().is_err() {
                break;
            }
        }
    });
    let mut ok = 0;
    for i in 0..iters {
        if ping_s.send(i).now().is_err() {
            break;
        }
        ok += u64::from(pong_r.receive_blocking() == Ok(i + 1));
    }
    drop(ping_s);
    echo.join().unwrap();
    ok
}

/// A fresh channel pair per message (oneshot channels are single-use): the ping carries the
/// reply sender.
fn ping_pong_oneshot(iters: u64) -> u64 {
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<oneshot::Receiver<(u64, oneshot::Sender<u64>)>>(1);
    let echo = thread::spawn(move || {
        for ping in rx {
            let Ok((v, reply)) = ping.recv() else { break };
            let _ = reply.send(v + 1);
        }
    });
    let mut ok = 0;
    for i in 0..iters {
        let (ping_s, ping_r) = oneshot::channel();
        let (pong_s, pong_r) = oneshot::channel();
        tx.send(ping_r).unwrap();
        let _ = ping_s.send((i, pong_s));
        ok += u64::from(pong_r.recv() == Ok(i + 1));
    }
    drop(tx);
    echo.join().unwrap();
    ok
}

fn ping_pong_tokio(iters: u64) -> u64 {
    type Ping = tokio::sync::oneshot::Receiver<(u64, tokio::sync::oneshot::Sender<u64>)>;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Ping>(1);
    let echo = thread::spawn(move || {
        for ping in rx {
            let Ok((v, reply)) = ping.blocking_recv() else {
                break;
            };
            let _ = reply.send(v + 1);
        }
    });
    let mut ok = 0;
    for i in 0..iters {
        let (ping_s, ping_r) = tokio::sync::oneshot::channel();
        let (pong_s, pong_r) = tokio::sync::oneshot::channel();
        tx.send(ping_r).unwrap();
        let _ = ping_s.send((i, pong_s));
        ok += u64::from(pong_r.blocking_recv() == Ok(i + 1));
    }
    drop(tx);
    echo.join().unwrap();
    ok
}

fn ping_pong_futures(iters: u64) -> u64 {
    type Ping = futures_channel::oneshot::Receiver<(u64, futures_channel::oneshot::Sender<u64>)>;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Ping>(1);
    let echo = thread::spawn(move || {
        for ping in rx {
            let Ok((v, reply)) = futures_lite::future::block_on(ping) else {
                break;
            };
            let _ = reply.send(v + 1);
        }
    });
    let mut ok = 0;
    for i in 0..iters {
        let (ping_s, ping_r) = futures_channel::oneshot::channel();
        let (pong_s, pong_r) = futures_channel::oneshot::channel();
        tx.send(ping_r).unwrap();
        let _ = ping_s.send((i, pong_s));
        ok += u64::from(futures_lite::future::block_on(pong_r) == Ok(i + 1));
    }
    drop(tx);
    echo.join().unwrap();
    ok
}
