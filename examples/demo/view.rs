//! The main thread's tick loop helpers: per-tick telemetry in framealloc's frame tier, and the
//! one-line progress view.
//!
//! Every tick (`TICK`) the main thread opens a frame, drains the request samples the
//! connection tasks sent since the last tick into a frame-allocated vector, counts them per
//! connection in a frame-allocated table, folds the result into long-lived [`Totals`], and ends
//! the frame: all of that scratch memory is released at once, and the next tick reuses the same
//! arena. Frame data is `!Send`, so none of it can leak into the tasks; the tasks use the pool
//! tier of the same allocator (`TaskAlloc`) instead.
//!
//! Every `PRINT_EVERY` ticks a line like this is printed (no terminal control codes):
//!
//! ```text
//! [0.45s] served 123 (+41) | buffers 4/4 in use, 2 waiting, 2 waits | clients 1/8 | frame 320 B, 13 samples | 812 polls
//! ```

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use framealloc::SmartAlloc;
use pool::Pool;

use crate::executor::POLLS;
use crate::server::{BUFFERS, BufPool, COUNTERS, Sample};

/// Time between two ticks of the main loop.
pub(crate) const TICK: Duration = Duration::from_millis(25);
/// Ticks between two progress lines (150 ms).
pub(crate) const PRINT_EVERY: usize = 6;
/// Connections tracked per connection in the per-tick table.
pub(crate) const MAX_CONNS: usize = 8;

/// What the tick loop accumulated over the whole run.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    /// Ticks (frames) run.
    pub(crate) ticks: usize,
    /// Samples (served requests) seen.
    pub(crate) samples: usize,
    /// Payload bytes of those requests.
    pub(crate) payload_bytes: usize,
    /// Requests per connection.
    pub(crate) per_conn: [usize; MAX_CONNS],
    /// Largest number of samples in one tick.
    pub(crate) peak_samples: usize,
    /// Largest frame (arena bytes used by one tick).
    pub(crate) peak_frame_bytes: usize,
    /// Most connections seen waiting for a buffer at one tick.
    pub(crate) peak_waiting: usize,
    /// Samples since the last progress line.
    since_print: usize,
    /// Frame bytes and samples of the last tick.
    last_frame: (usize, usize),
}

impl Totals {
    /// One tick: aggregates the pending samples in frame memory.
    pub(crate) fn tick(&mut self, alloc: &SmartAlloc, samples: &flume::Receiver<Sample>) {
        let frame = alloc.begin_frame();
        let mut batch = frame.frame_vec::<Sample>();
        batch.extend(samples.try_iter());
        let per_conn = frame.frame_slice(&[0usize; MAX_CONNS]);
        let mut bytes = 0;
        for sample in batch.iter() {
            if let Some(count) = per_conn.get_mut(sample.conn) {
                *count += 1;
            }
            bytes += usize::from(sample.len);
        }
        for (total, n) in self.per_conn.iter_mut().zip(per_conn.iter()) {
            *total += n;
        }
        self.ticks += 1;
        self.samples += batch.len();
        self.since_print += batch.len();
        self.payload_bytes += bytes;
        self.peak_samples = self.peak_samples.max(batch.len());
        self.peak_frame_bytes = self.peak_frame_bytes.max(frame.used());
        self.peak_waiting = self.peak_waiting.max(BufPool::waiting());
        self.last_frame = (frame.used(), batch.len());
        drop(batch);
        alloc.end_frame(frame);
    }

    /// The progress line, every `PRINT_EVERY` ticks.
    pub(crate) fn progress(
        &mut self,
        elapsed: Duration,
        clients_done: usize,
        clients: usize,
    ) -> Option<String> {
        if !self.ticks.is_multiple_of(PRINT_EVERY) {
            return None;
        }
        let line = format!(
            "[{:.2}s] served {:3} (+{:2}) | buffers {}/{BUFFERS} in use, {} waiting, {} waits \
             | clients {clients_done}/{clients} | frame {:4} B, {:2} samples | {} polls",
            elapsed.as_secs_f64(),
            COUNTERS.served.load(Relaxed),
            self.since_print,
            BUFFERS - BufPool::free_slots(),
            BufPool::waiting(),
            COUNTERS.waited.load(Relaxed),
            self.last_frame.0,
            self.last_frame.1,
            POLLS.load(Relaxed),
        );
        self.since_print = 0;
        Some(line)
    }
}
