//! `TaskAlloc` in spawned tasks (the seed's "Nested Tasks", "Asset Loading Pipeline" and
//! "Async Channels" patterns) on a multi-threaded tokio runtime.
//!
//! Each task makes its own `TaskAlloc` from a clone of the allocator, keeps pool-backed boxes and
//! vectors across `.await` points (the task may resume on another worker thread), and everything
//! is back in the pool when the task ends. The program checks the results and that the pool tier
//! really served the allocations and got every block back.

use framealloc::SmartAlloc;
use framealloc::tokio::TaskAlloc;
use tokio::sync::mpsc;

/// A request: a name and a payload to "process".
struct Request {
    id: u32,
    data: Vec<u8>,
}

/// The seed's `process_single_request`: task-scoped allocations across awaits.
async fn process_single_request(task: &TaskAlloc, request: Request) -> (u32, u32) {
    let data = task.alloc_box(request.data);
    tokio::task::yield_now().await; // "compute_result(&data).await"
    let mut parsed = task.alloc_vec::<u32>();
    for chunk in data.chunks(4) {
        parsed.push(chunk.iter().map(|&b| u32::from(b)).sum());
        tokio::task::yield_now().await;
    }
    (request.id, parsed.iter().sum())
}

/// The seed's `process_requests`: one task per request, each with its own `TaskAlloc`.
async fn process_requests(alloc: &SmartAlloc, requests: Vec<Request>) -> Vec<(u32, u32)> {
    let mut handles = Vec::new();
    for request in requests {
        let alloc = alloc.clone();
        handles.push(tokio::spawn(async move {
            let task = TaskAlloc::new(&alloc);
            let out = process_single_request(&task, request).await;
            assert_eq!(
                task.live_allocations(),
                0,
                "everything dropped before the task ends"
            );
            out
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.expect("task panicked"));
    }
    results
}

/// The seed's `worker_task`: one long-lived `TaskAlloc` reused for every work item.
async fn worker_task(mut receiver: mpsc::Receiver<Request>, alloc: SmartAlloc) -> (usize, u32) {
    let task = TaskAlloc::new(&alloc);
    let mut handled = 0;
    let mut total = 0;
    while let Some(work) = receiver.recv().await {
        let (_, sum) = process_single_request(&task, work).await;
        total += sum;
        handled += 1;
    }
    (handled, total)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let alloc = SmartAlloc::new(Default::default());

    let requests: Vec<Request> = (0..16)
        .map(|id| Request {
            id,
            data: vec![id as u8; 64],
        })
        .collect();
    let mut results = runtime.block_on(process_requests(&alloc, requests));
    results.sort_unstable();
    for (id, sum) in &results {
        assert_eq!(*sum, id * 64, "request {id}");
    }
    println!("processed {} requests in their own tasks", results.len());

    let (tx, rx) = mpsc::channel(8);
    let worker = runtime.spawn(worker_task(rx, alloc.clone()));
    runtime.block_on(async {
        for id in 0..10 {
            tx.send(Request {
                id,
                data: vec![1; 40],
            })
            .await
            .expect("worker alive");
        }
    });
    drop(tx);
    let (handled, total) = runtime.block_on(worker).expect("worker");
    assert_eq!((handled, total), (10, 400));
    println!("worker handled {handled} items with one TaskAlloc");

    let st = alloc.stats();
    assert!(
        st.pool.allocations >= 16 * 2,
        "the pool tier served the tasks"
    );
    assert_eq!(st.pool.live_count(), 0, "every block went back to the pool");
    assert_eq!(st.heap.allocations, 0);
    println!(
        "pool: {} allocations, {} frees, {} bytes reserved",
        st.pool.allocations, st.pool.frees, st.pool.reserved_bytes
    );
}
