//! The frugal demo: every crate of the workspace in one small server, the way a firmware or
//! server engineer would combine them.
//!
//! ```text
//!  main thread (tick loop, 25 ms)          worker-0, worker-1 (executor.rs, task-ffi)
//!  ─────────────────────────────           ───────────────────────────────────────────
//!  frame tier: per-tick scratch   ◄─flume── connection tasks (server.rs)
//!    (view.rs, framealloc)        samples     request buffer: pool! Box, waits in new_async
//!  hatch receivers: client reports ◄─hatch─  reply frame: framealloc TaskAlloc (pool tier)
//!  hatch sender: shutdown ─────────hatch──► accept loop (io-mini listener, 127.0.0.1:0)
//!  progress line every 150 ms               client tasks (clients.rs, io-mini streams,
//!  final checks and summary                   embassy-time pacing)
//! ```
//!
//! * **Executor** (`executor.rs`): task-ffi `Runnable`s in a flume run queue, two worker threads.
//! * **Server** (`server.rs`): an io-mini TCP echo server. Each connection holds one of
//!   `BUFFERS` request buffers from a `pool!` for its whole life; with more connections than
//!   buffers the others wait in `Box::new_async` (visible backpressure, counted).
//! * **Clients** (`clients.rs`): six good clients (length-prefixed frames, every echo checked),
//!   one sending garbage and one disconnecting in the middle of a frame. Each reports over its
//!   own hatch; the main thread polls the hatches with `receive().now()` every tick.
//! * **Tick loop** (`view.rs`): framealloc's frame tier holds each tick's telemetry scratch.
//!
//! When every client has reported, the main thread sends the shutdown signal over a hatch, waits
//! for the server's report and checks: every good request echoed, the bad connections rejected
//! or cut off without harm, the pool back at full capacity with nobody waiting, no pool or frame
//! memory live, no io-mini source left registered. It exits 0 in about two seconds; a watchdog
//! thread exits with status 2 after 20 s should anything hang.

mod clients;
mod executor;
mod server;
mod view;

use std::net::TcpListener;
use std::process;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::{Duration, Instant};

use framealloc::{AllocConfig, SmartAlloc};
use futures_lite::future;
use io_mini::Async;
use pool::Pool;

use clients::{ClientReport, Kind, Outcome, REQUESTS};
use server::{BUFFERS, BufPool, COUNTERS, Ending, Shared};
use view::{TICK, Totals};

/// Worker threads of the executor.
const WORKERS: usize = 2;
/// The clients, in spawn order (their ids).
const CLIENTS: [Kind; 8] = [
    Kind::Good,
    Kind::Good,
    Kind::Garbage,
    Kind::Good,
    Kind::Good,
    Kind::CutOff,
    Kind::Good,
    Kind::Good,
];
/// The watchdog's limit.
const WATCHDOG: Duration = Duration::from_secs(20);

fn main() {
    let start = Instant::now();
    thread::spawn(|| {
        thread::sleep(WATCHDOG);
        eprintln!("demo: watchdog: still running after {WATCHDOG:?}, giving up");
        process::exit(2);
    });

    let alloc = SmartAlloc::new(AllocConfig {
        frame_capacity: 16 * 1024,
        ..Default::default()
    });
    let (spawner, workers) = executor::start(WORKERS);
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind 127.0.0.1:0");
    let addr = listener.get_ref().local_addr().expect("local address");
    println!(
        "demo: echo server on {addr}, {WORKERS} workers, {BUFFERS} request buffers for {} \
         connections, {} waiter places",
        CLIENTS.len(),
        BufPool::waiter_capacity()
    );

    let (telemetry, samples) = flume::unbounded();
    let (mut shutdown, shutdown_rx) = hatch::hatch::<()>();
    let shared = Shared {
        spawner: spawner.clone(),
        alloc: alloc.clone(),
        telemetry,
    };
    let server = spawner.spawn(server::run(listener, shared, shutdown_rx));

    let mut pending = Vec::new();
    let mut client_tasks = Vec::new();
    for (id, kind) in CLIENTS.into_iter().enumerate() {
        let (report, report_rx) = hatch::hatch::<Outcome>();
        client_tasks.push(spawner.spawn(clients::run(id, kind, addr, report)));
        pending.push(report_rx);
    }
    drop(spawner);

    // The tick loop: telemetry in frame memory, client reports from the hatches, the view.
    let mut totals = Totals::default();
    let mut outcomes: Vec<Option<Outcome>> = CLIENTS.iter().map(|_| None).collect();
    let mut shutdown_sent = false;
    loop {
        thread::sleep(TICK);
        totals.tick(&alloc, &samples);
        for (report, outcome) in pending.iter_mut().zip(&mut outcomes) {
            if outcome.is_none() {
                *outcome = match report.receive().now() {
                    Ok(received) => received,
                    Err(hatch::Closed) => Some(Err("the client ended without a report".into())),
                };
            }
        }
        let done = outcomes.iter().filter(|o| o.is_some()).count();
        if let Some(line) = totals.progress(start.elapsed(), done, CLIENTS.len()) {
            println!("{line}");
        }
        if done == CLIENTS.len() && !shutdown_sent {
            shutdown
                .send(())
                .now()
                .expect("the server listens for shutdown");
            shutdown_sent = true;
        }
        if shutdown_sent && server.is_finished() {
            break;
        }
    }
    let server = future::block_on(server);
    for task in client_tasks {
        future::block_on(task);
    }
    // The last samples, sent before the connections ended.
    totals.tick(&alloc, &samples);
    let polls = workers.join();
    let elapsed = start.elapsed();

    // --- checks -------------------------------------------------------------------------------
    let reports: Vec<ClientReport> = outcomes
        .into_iter()
        .map(|o| o.expect("every client reported").expect("client failed"))
        .collect();
    for r in &reports {
        assert_eq!(r.echoed, r.sent, "client {} lost echoes", r.id);
        if r.kind == Kind::Good {
            assert_eq!(r.sent, REQUESTS, "client {} stopped early", r.id);
        }
    }
    let sent: usize = reports.iter().map(|r| r.sent).sum();
    let served: usize = server.connections.iter().map(|c| c.served).sum();
    let served_live = COUNTERS.served.load(Relaxed);
    assert_eq!(served, sent, "every good request got exactly one echo");
    assert_eq!(served_live, sent);
    assert_eq!(totals.samples, sent, "the tick loop saw every request");
    assert_eq!(server.accept_errors, 0);
    assert_eq!(server.connections.len(), CLIENTS.len());
    let ending = |e: Ending| server.connections.iter().filter(|c| c.ending == e).count();
    let good = CLIENTS.iter().filter(|k| **k == Kind::Good).count();
    assert_eq!(ending(Ending::Clean), good);
    assert_eq!(ending(Ending::Rejected(255)), 1, "the garbage was rejected");
    assert_eq!(ending(Ending::CutOff), 1, "the cut-off request was noticed");
    let waited = server.connections.iter().filter(|c| c.waited).count();
    assert_eq!(waited, COUNTERS.waited.load(Relaxed));
    assert!(
        waited > 0,
        "more connections than buffers: some had to wait"
    );
    assert_eq!(
        BufPool::free_slots(),
        BUFFERS,
        "every request buffer is back"
    );
    assert_eq!(BufPool::waiting(), 0);
    let stats = alloc.stats();
    assert_eq!(
        stats.pool.live_count(),
        0,
        "the tasks' pool blocks are back"
    );
    assert_eq!(stats.frame.live_count(), 0, "frame memory is released");
    assert_eq!(
        io_mini::reactor_usage(),
        (0, 0),
        "no source left registered"
    );

    // --- summary ------------------------------------------------------------------------------
    println!("---");
    println!(
        "served {served}/{sent} requests ({} payload bytes) on {} connections in {:.2} s",
        totals.payload_bytes,
        server.connections.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "backpressure: {waited} connections waited for one of {BUFFERS} buffers (at most {} at \
         once); pool back at {}/{BUFFERS} free",
        totals.peak_waiting,
        BufPool::free_slots()
    );
    for r in reports.iter().filter(|r| r.kind == Kind::Good) {
        let first = r.first_echo.map_or(0.0, |d| d.as_secs_f64() * 1e3);
        println!(
            "  client {}: {} echoes, first after {first:.1} ms",
            r.id, r.echoed
        );
    }
    let table: Vec<String> = server
        .connections
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ending = match c.ending {
                Ending::Clean => "clean".to_string(),
                Ending::Rejected(len) => format!("rejected len {len}"),
                Ending::CutOff => "cut off".to_string(),
                Ending::Failed(kind) => format!("{kind:?}"),
            };
            let waited = if c.waited { ", waited" } else { "" };
            format!("#{i} {} {ending}{waited}", c.served)
        })
        .collect();
    println!("connections (served, ending): {}", table.join(" | "));
    println!(
        "bad input: {} rejected (length 255), {} cut off mid-frame; server kept serving",
        ending(Ending::Rejected(255)),
        ending(Ending::CutOff)
    );
    let task_blocks: usize = server.connections.iter().map(|c| c.task_allocations).sum();
    println!(
        "framealloc: {} ticks, peak {} B and {} samples per frame, frame live {} B; TaskAlloc: \
         {task_blocks} pool blocks, {} live",
        totals.ticks,
        totals.peak_frame_bytes,
        totals.peak_samples,
        stats.frame.live_bytes(),
        stats.pool.live_count()
    );
    println!(
        "task-ffi: {} polls on {WORKERS} workers {polls:?}; io-mini: no source left; hatch: {} \
         reports + 1 shutdown",
        polls.iter().sum::<usize>(),
        reports.len()
    );
    println!("ok");
}
