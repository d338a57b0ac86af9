//! `AsyncPoolGuard` with early returns (upstream framealloc's "AsyncPoolGuard → RAII Pattern" and
//! "Scoped Resource Management", and "Integration with Tokio → Async Timers"): everything
//! allocated through the guard is freed when the function returns, by `return`, by `?`, or at
//! the end. The program counts the rows' drops and checks that the pool has nothing live.
//!
//! Adaptations:
//! * Upstream framealloc called `alloc.pool_alloc()` next to a guard that could not see those
//!   allocations; here allocations go *through* the guard (`guard.pool_alloc`,
//!   `guard.pool_box`, `guard.pool_vec`), and the compiler keeps them from outliving it.
//! * The transaction, queries and metrics are stand-ins (`execute_query` fails on query 13);
//!   the functions return what they computed so the program can check it.
//! * `timed_operations` runs 5 ticks of 2 ms instead of forever at 1 s, so the program ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use framealloc::SmartAlloc;
use framealloc::task::AsyncPoolGuard;

/// A database row that counts its drops.
struct Row {
    value: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Row {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Debug, PartialEq)]
enum Error {
    QueryFailed(u32),
    ValidationFailed,
}

async fn execute_query(query: u32) -> Result<Vec<u32>, Error> {
    tokio::task::yield_now().await;
    if query == 13 {
        Err(Error::QueryFailed(query))
    } else {
        Ok(vec![query; 3])
    }
}

/// Upstream framealloc's `database_transaction`: rows live in a guarded pool vector.
async fn database_transaction(
    alloc: &SmartAlloc,
    queries: &[u32],
    drops: &Arc<AtomicUsize>,
) -> Result<u32, Error> {
    let guard = AsyncPoolGuard::new(alloc);
    let mut results = guard.pool_vec::<Row>();
    for &query in queries {
        let rows = execute_query(query).await?; // early return: `results` and the guard drop
        results.extend(rows.into_iter().map(|value| Row {
            value,
            drops: drops.clone(),
        }));
    }
    let total: u32 = results.iter().map(|r| r.value).sum();
    if total > 100 {
        return Err(Error::ValidationFailed); // early return again
    }
    Ok(total)
}

/// Upstream framealloc's `process_with_guard`: boxes from the guard, and a condition that bails out.
async fn process_with_guard(alloc: &SmartAlloc, bail: bool) -> Option<u64> {
    let guard = AsyncPoolGuard::new(alloc);
    let data1 = guard.pool_alloc::<[u64; 4]>().write([1, 2, 3, 4]);
    let data2 = guard.pool_box(String::from("more data"));
    tokio::task::yield_now().await;
    if bail {
        return None;
    }
    assert_eq!(guard.live_allocations(), 2);
    Some(data1.iter().sum::<u64>() + data2.len() as u64)
}

/// Upstream framealloc's `timed_operations`: a fresh guard on every tick of an interval.
async fn timed_operations(alloc: &SmartAlloc, ticks: u32) -> u64 {
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(2));
    let mut reports = 0;
    for _ in 0..ticks {
        interval.tick().await;
        let guard = AsyncPoolGuard::new(alloc);
        let mut metrics = guard.pool_vec::<u64>();
        metrics.extend(1..=10); // "collect_metrics().await"
        tokio::task::yield_now().await;
        let report = guard.pool_box(metrics.iter().sum::<u64>()); // "generate_report"
        reports += *report;
        // All allocations of this tick are cleaned up here.
    }
    reports
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let alloc = SmartAlloc::new(Default::default());
    let drops = Arc::new(AtomicUsize::new(0));

    runtime.block_on(async {
        assert_eq!(
            database_transaction(&alloc, &[1, 2, 3], &drops).await,
            Ok(18)
        );
        assert_eq!(drops.load(Ordering::SeqCst), 9);
        assert_eq!(
            database_transaction(&alloc, &[1, 13, 3], &drops).await,
            Err(Error::QueryFailed(13))
        );
        assert_eq!(
            drops.load(Ordering::SeqCst),
            12,
            "rows of query 1 dropped on `?`"
        );
        assert_eq!(
            database_transaction(&alloc, &[40, 50], &drops).await,
            Err(Error::ValidationFailed)
        );
        assert_eq!(drops.load(Ordering::SeqCst), 18);

        assert_eq!(process_with_guard(&alloc, true).await, None);
        assert_eq!(process_with_guard(&alloc, false).await, Some(19));
        assert_eq!(timed_operations(&alloc, 5).await, 5 * 55);
    });

    let st = alloc.stats();
    assert_eq!(st.pool.live_count(), 0, "every guard freed its allocations");
    assert!(st.pool.allocations > 0);
    println!(
        "{} pool allocations, all freed; {} rows dropped exactly once",
        st.pool.allocations,
        drops.load(Ordering::SeqCst)
    );
}
