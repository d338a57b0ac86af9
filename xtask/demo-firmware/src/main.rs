//! The firmware variant of frugal's demo: pool + hatch + task-ffi on a Cortex-M4 (QEMU
//! `mps2-an386`), no sockets, no std.
//!
//! ```text
//!  SysTick (1 kHz, sensor.rs)            thread mode: static executor (executor.rs, task-ffi)
//!  ─────────────────────────             ─────────────────────────────────────────────────────
//!  reading ──hatch READINGS (u16)────►  sampler:   fills a pool Box<Block> with SAMPLES readings
//!                                                  │ hatch FULL (Box<Block>, zero-copy hand-over)
//!                                                  ▼
//!                                       processor: min/max/mean, keeps the previous block for
//!                                                  │ the trend (so it holds one buffer)
//!                                                  │ hatch SUMMARIES (Summary)
//!                                                  ▼
//!                                       reporter:  prints one line per block (semihosting)
//! ```
//!
//! The pool has two blocks and one waiter place. The processor holds the previous block and the
//! hatch holds the block just sent, so the sampler finds the pool empty and waits in
//! `Box::new_async` until the processor drops the old block — the drop hands the slot straight
//! to the waiting sampler and wakes it. The hatches and the pool are `static`s (no allocation);
//! only the three tasks live on the heap (embedded-alloc), as task-ffi requires.
//!
//! After `BLOCKS` blocks the sampler drops its sender; the processor sees the hatch closed and
//! drops its own, which ends the reporter. The program checks that every block went through,
//! that the pool is back at full capacity, prints a summary line and exits QEMU with status 0
//! (any panic exits with a failure status).
#![no_std]
#![no_main]

extern crate alloc;

mod executor;
mod sensor;

use core::future::Future;
use core::pin::pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll, Waker};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use embedded_alloc::LlffHeap;
use hatch::{Hatch, Receiver, Sender};
use pool::{Box, Pool, pool};

/// Readings per block.
const SAMPLES: usize = 16;
/// Blocks the sampler fills before it stops.
const BLOCKS: usize = 16;

/// A block of sensor readings.
#[derive(Debug)]
pub struct Block {
    seq: usize,
    len: usize,
    samples: [u16; SAMPLES],
}

pool!(
    /// Two sample blocks, one waiter place (the sampler).
    Blocks: [Block; 2], 1
);

/// What the processor makes of one block.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    seq: usize,
    min: u16,
    max: u16,
    mean: u32,
    /// Mean minus the previous block's mean.
    trend: i32,
}

/// Full blocks, sampler → processor.
static FULL: Hatch<Box<Blocks>> = Hatch::new();
/// Block summaries, processor → reporter.
static SUMMARIES: Hatch<Summary> = Hatch::new();
/// Times the sampler found no free block and waited in `Box::new_async`.
static POOL_WAITS: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();

/// Gives the allocator 16 KiB (task memory only).
fn init_heap() {
    use core::mem::MaybeUninit;
    const SIZE: usize = 16 * 1024;
    static mut MEMORY: [MaybeUninit<u8>; SIZE] = [MaybeUninit::uninit(); SIZE];
    // SAFETY: called once before any allocation; MEMORY is used by nothing else.
    unsafe { HEAP.init(core::ptr::addr_of_mut!(MEMORY) as usize, SIZE) }
}

/// Fills `BLOCKS` blocks with readings from the SysTick handler; returns the readings taken.
async fn sampler(
    mut readings: Receiver<'static, u16>,
    mut full: Sender<'static, Box<Blocks>>,
) -> usize {
    let mut taken = 0;
    for seq in 0..BLOCKS {
        let empty = Block {
            seq,
            len: 0,
            samples: [0; SAMPLES],
        };
        let mut block = match Box::<Blocks>::try_new(empty) {
            Ok(block) => block,
            Err(empty) => {
                POOL_WAITS.fetch_add(1, Ordering::Relaxed);
                Box::<Blocks>::new_async(empty)
                    .await
                    .expect("the sampler is the only waiter")
            }
        };
        while block.len < SAMPLES {
            let reading = readings.receive().await.expect("the sensor is running");
            let i = block.len;
            block.samples[i] = reading;
            block.len += 1;
        }
        taken += SAMPLES;
        // Waits while the processor has not taken the previous block.
        full.send(block).await.expect("the processor is running");
    }
    taken
    // `full` drops here: the processor sees the hatch closed once it has taken the last block.
}

/// Summarises blocks until the sampler is done; returns the number of blocks.
async fn processor(
    mut full: Receiver<'static, Box<Blocks>>,
    mut summaries: Sender<'static, Summary>,
) -> usize {
    let mut previous: Option<Box<Blocks>> = None;
    let mut blocks = 0;
    while let Ok(block) = full.receive().await {
        let samples = &block.samples[..block.len];
        let min = samples.iter().copied().min().unwrap_or(0);
        let max = samples.iter().copied().max().unwrap_or(0);
        let mean = samples.iter().map(|&s| u32::from(s)).sum::<u32>() / SAMPLES as u32;
        let previous_mean = previous.as_ref().map_or(mean, |p| {
            p.samples.iter().map(|&s| u32::from(s)).sum::<u32>() / SAMPLES as u32
        });
        let summary = Summary {
            seq: block.seq,
            min,
            max,
            mean,
            trend: mean as i32 - previous_mean as i32,
        };
        summaries
            .send(summary)
            .await
            .expect("the reporter is running");
        // The old block goes back to the pool here, straight to the sampler if it waits.
        previous = Some(block);
        blocks += 1;
    }
    blocks
}

/// Prints each summary; returns the number of blocks and whether they came in order.
async fn reporter(mut summaries: Receiver<'static, Summary>) -> (usize, bool) {
    let mut count = 0;
    let mut in_order = true;
    while let Ok(s) = summaries.receive().await {
        in_order &= s.seq == count;
        count += 1;
        hprintln!(
            "[{:4} ms] block {:2}: min {:4} max {:4} mean {:4} trend {:+5} | pool {}/2 free, {} waits",
            sensor::millis(),
            s.seq,
            s.min,
            s.max,
            s.mean,
            s.trend,
            Blocks::free_slots(),
            POOL_WAITS.load(Ordering::Relaxed),
        );
    }
    (count, in_order)
}

/// The output of a finished future (polled once; panics if it is not ready).
fn output<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the task has finished"),
    }
}

#[entry]
fn main() -> ! {
    init_heap();
    let core = cortex_m::Peripherals::take().expect("taken once");
    hprintln!(
        "demo-firmware: {} blocks of {} readings from SysTick (1 kHz), a pool of {} blocks",
        BLOCKS,
        SAMPLES,
        Blocks::capacity()
    );
    let (full_tx, full_rx) = FULL.try_split().expect("a fresh hatch");
    let (summaries_tx, summaries_rx) = SUMMARIES.try_split().expect("a fresh hatch");
    let readings = sensor::start(core.SYST);
    let sampler = executor::spawn(sampler(readings, full_tx));
    let processor = executor::spawn(processor(full_rx, summaries_tx));
    let reporter = executor::spawn(reporter(summaries_rx));
    executor::run_until(|| reporter.is_finished());
    sensor::stop();

    let readings = output(sampler);
    let blocks = output(processor);
    let (reported, in_order) = output(reporter);
    assert_eq!(readings, BLOCKS * SAMPLES);
    let missed = sensor::MISSED.load(Ordering::Relaxed);
    let sent = sensor::SENT.load(Ordering::Relaxed);
    assert!(
        sent == readings || sent == readings + 1,
        "every reading sent was received, but for at most one left in the hatch at the end"
    );
    assert_eq!(blocks, BLOCKS);
    assert_eq!(reported, BLOCKS);
    assert!(in_order, "blocks arrive in order");
    assert_eq!(
        Blocks::free_slots(),
        Blocks::capacity(),
        "every block is back"
    );
    assert_eq!(Blocks::waiting(), 0);
    let waits = POOL_WAITS.load(Ordering::Relaxed);
    assert!(waits > 0, "the sampler had to wait for a block");
    hprintln!(
        "demo-firmware: {} readings in {} blocks, {} missed, {} pool waits, pool {}/{} free, \
         {} polls, {} ms; ok",
        readings,
        blocks,
        missed,
        waits,
        Blocks::free_slots(),
        Blocks::capacity(),
        executor::POLLS.load(Ordering::Relaxed),
        sensor::millis(),
    );
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("demo-firmware: FAILED: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
