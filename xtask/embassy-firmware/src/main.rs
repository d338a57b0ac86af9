//! frugal in an embassy firmware, the way embassy users write one: `embassy-executor` tasks in
//! thread mode, `embassy-time` timers (with the SysTick driver of [`time_driver`]), a static
//! `pool!` with waiter places awaited under `with_timeout`, and readings sent from an interrupt
//! handler through a static [`SharedHatch`] (with only `&'static` access, no mutex around a
//! handle). Runs on QEMU's mps2-an386 (Cortex-M4) in `cargo xtask qemu`.
//!
//! Every check prints `check <name> ... ok` or `... FAILED`; the run ends with
//! `N passed, N failed` and exits QEMU with a failure status if any check failed (or a panic).
#![no_std]
#![no_main]

mod time_driver;

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use cortex_m_semihosting::{debug, hprintln};
use embassy_executor::{Executor, Spawner};
use embassy_time::{Duration, Instant, TimeoutError, Timer, with_timeout};
use frugal::hatch::{SendError, SharedHatch};
use frugal::pool::{Box, Pool, pool};

static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

/// Records one check (from thread mode only: a load and a store suffice, also on thumbv6m, which
/// has no read-modify-write atomics).
fn check(name: &str, ok: bool) {
    let count = if ok { &PASSED } else { &FAILED };
    count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    hprintln!("check {} ... {}", name, if ok { "ok" } else { "FAILED" });
}

// Two 64-byte buffers; up to two tasks may wait for one.
pool!(Buffers: [[u8; 64]; 2], 2);

/// Holds both buffers for 50 ms, then gives one back.
#[embassy_executor::task]
async fn holder(done: &'static AtomicBool) {
    let a = Box::<Buffers>::new([1; 64]).expect("the pool starts empty");
    let b = Box::<Buffers>::new([2; 64]).expect("two slots");
    Timer::after(Duration::from_millis(50)).await;
    drop(a);
    Timer::after(Duration::from_millis(20)).await;
    drop(b);
    done.store(true, Ordering::Release);
}

/// Waits for a buffer twice: once too briefly (a timeout), once long enough.
async fn wait_for_buffers() {
    // Let the holder take both buffers first.
    Timer::after(Duration::from_millis(5)).await;
    check("pool is full while held", Buffers::free_slots() == 0);

    let start = Instant::now();
    let early = with_timeout(
        Duration::from_millis(10),
        Box::<Buffers>::new_async([3; 64]),
    )
    .await;
    let waited = start.elapsed();
    check("a short wait times out", matches!(early, Err(TimeoutError)));
    check(
        "the timeout took about 10 ms",
        (10..=15).contains(&waited.as_millis()),
    );
    check(
        "a timed-out wait leaves its waiter place",
        Buffers::waiting() == 0 && Buffers::waiter_capacity() == 2,
    );

    let start = Instant::now();
    let late = with_timeout(
        Duration::from_millis(200),
        Box::<Buffers>::new_async([4; 64]),
    )
    .await;
    let waited = start.elapsed();
    let got = matches!(&late, Ok(Some(b)) if b[0] == 4);
    check("a long wait gets the freed buffer", got);
    check(
        "it arrived when the holder freed it (about 40 ms)",
        (30..=60).contains(&waited.as_millis()),
    );
    drop(late);
}

/// Sensor readings, sent by the tick interrupt handler with nothing but `&'static` access; the
/// newest replaces one the task has not taken yet.
static READINGS: SharedHatch<u32> = SharedHatch::new();
/// The last reading sent (written by the interrupt handler only).
static SENT: AtomicU32 = AtomicU32::new(0);
/// Sends refused because no receiver was alive yet (written by the interrupt handler only).
static REFUSED: AtomicU32 = AtomicU32::new(0);

/// Runs in the SysTick handler: a new reading every 5 ms.
fn sensor(now: u64) {
    if now % 5 != 0 {
        return;
    }
    let reading = SENT.load(Ordering::Relaxed) + 1;
    SENT.store(reading, Ordering::Relaxed);
    match READINGS.replace(reading) {
        // A replaced reading is a `u32`: dropping it here, in the handler, is free.
        Ok(_replaced) => {}
        Err(SendError::Closed(_)) => {
            REFUSED.store(REFUSED.load(Ordering::Relaxed) + 1, Ordering::Relaxed)
        }
        Err(SendError::Full(_)) => unreachable!("replace never reports a full slot"),
    }
}

/// Receives the handler's readings: each one while it keeps up, the newest after a pause.
async fn receive_readings() {
    critical_section::with(|cs| time_driver::TICK_HOOK.borrow(cs).set(Some(sensor)));
    // The handler runs before anyone listens: its sends come back as `Closed`.
    Timer::after(Duration::from_millis(12)).await;
    check(
        "sends before a receiver exists are refused",
        REFUSED.load(Ordering::Relaxed) >= 2,
    );

    let mut rx = READINGS.receiver().expect("the first receiver");
    check("a second receiver is refused", READINGS.receiver().is_err());
    let mut previous = rx.receive().await.expect("the handler keeps sending");
    let mut consecutive = true;
    for _ in 0..10 {
        let reading = rx.receive().await.expect("the handler keeps sending");
        consecutive &= reading == previous + 1;
        previous = reading;
    }
    check(
        "awaiting, the task gets every reading in order",
        consecutive,
    );

    Timer::after(Duration::from_millis(30)).await;
    let reading = rx.receive().await.expect("the handler keeps sending");
    let sent = SENT.load(Ordering::Relaxed);
    check(
        "after a 30 ms pause the task gets the newest reading",
        reading == sent || reading + 1 == sent,
    );
    check(
        "the readings it missed were replaced, not queued",
        reading >= previous + 5,
    );
    critical_section::with(|cs| time_driver::TICK_HOOK.borrow(cs).set(None));
}

#[embassy_executor::task]
async fn main_task(spawner: Spawner) {
    static HOLDER_DONE: AtomicBool = AtomicBool::new(false);
    spawner.spawn(holder(&HOLDER_DONE).expect("one holder task"));
    wait_for_buffers().await;
    while !HOLDER_DONE.load(Ordering::Acquire) {
        Timer::after(Duration::from_millis(5)).await;
    }
    check(
        "every buffer is back",
        Buffers::free_slots() == 2 && Buffers::waiting() == 0,
    );
    receive_readings().await;
    finish();
}

/// frugal's `defmt` feature is on: what the firmware would log implements `defmt::Format`.
const _: () = {
    const fn loggable<T: defmt::Format>() {}
    loggable::<SendError<u32>>();
    loggable::<frugal::hatch::Closed>();
    loggable::<frugal::hatch::SharedHatch<u32>>();
    loggable::<Box<Buffers>>();
    loggable::<frugal::sync::QueueFull>();
};

/// Prints the summary and leaves QEMU with the matching status.
fn finish() -> ! {
    let passed = PASSED.load(Ordering::Relaxed);
    let failed = FAILED.load(Ordering::Relaxed);
    hprintln!("{} passed, {} failed", passed, failed);
    debug::exit(if failed == 0 && passed > 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let core = cortex_m::Peripherals::take().expect("taken once");
    time_driver::init(core.SYST);
    static mut EXECUTOR: Option<Executor> = None;
    // SAFETY: `main` runs once, and nothing else touches `EXECUTOR`.
    let executor = unsafe { (*core::ptr::addr_of_mut!(EXECUTOR)).insert(Executor::new()) };
    executor.run(|spawner| spawner.spawn(main_task(spawner).expect("one main task")))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("FAILED: {}", info);
    hprintln!("{} passed, 1 failed", PASSED.load(Ordering::Relaxed));
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
