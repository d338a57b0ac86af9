//! `TaskAlloc` in spawned tasks (upstream framealloc's "TaskAlloc → Nested Tasks" and "Integration with
//! Tokio → Async Channels") on a multi-threaded tokio runtime. Upstream framealloc's "Asset Loading
//! Pipeline" is in `assets.rs` (`framealloc-assets`).
//!
//! Each task makes its own `TaskAlloc` from a clone of the allocator, keeps pool-backed boxes and
//! vectors across `.await` points (the task may resume on another worker thread), and everything
//! is back in the pool when the task ends. The program checks the results and that the pool tier
//! really served the allocations and got every block back.
//!
//! Adaptations:
//! * `process_single_request` returns its result instead of calling upstream framealloc's `send_result`.
//! * Async Channels: a tokio `mpsc::Receiver` cannot be cloned (upstream framealloc's `rx.clone()`), so the
//!   four workers of `dispatch_work` share it behind an `Arc<tokio::sync::Mutex<_>>`; each work
//!   item carries the sender its result goes to, and upstream framealloc's "collect logic" reads the results
//!   until every worker is done.
//! * The tasks use `let task`, since `alloc_box`/`alloc_vec` take `&self`.

use std::sync::Arc;

use framealloc::SmartAlloc;
use framealloc::task::TaskAlloc;
use tokio::sync::{Mutex, mpsc};

/// A request: a name and a payload to "process".
struct Request {
    id: u32,
    data: Vec<u8>,
}

/// Upstream framealloc's `process_single_request`: task-scoped allocations across awaits.
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

/// Upstream framealloc's `process_requests`: one task per request, each with its own `TaskAlloc`.
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

/// A work item of upstream framealloc's "Async Channels": a request and where its result goes.
struct WorkItem {
    request: Request,
    sender: Option<mpsc::Sender<WorkResult>>,
}

/// A result: the request id, its sum, and which worker computed it.
type WorkResult = (u32, u32, usize);

/// Upstream framealloc's `worker_task`: one long-lived `TaskAlloc` reused for every work item; returns how
/// many items this worker handled.
async fn worker_task(
    receiver: Arc<Mutex<mpsc::Receiver<WorkItem>>>,
    alloc: SmartAlloc,
    worker: usize,
) -> usize {
    let task = TaskAlloc::new(&alloc);
    let mut handled = 0;
    loop {
        let Some(work) = receiver.lock().await.recv().await else {
            break; // the dispatcher is gone and the queue is empty
        };
        // Process work item with task allocations.
        let (id, sum) = process_single_request(&task, work.request).await;
        assert_eq!(task.live_allocations(), 0, "nothing kept between items");
        handled += 1;
        // Send result back.
        if let Some(sender) = work.sender {
            let _ = sender.send((id, sum, worker)).await;
        }
    }
    handled
}

/// Upstream framealloc's `dispatch_work`: four workers share one queue; returns the results and how many
/// items each worker handled.
async fn dispatch_work(
    alloc: &SmartAlloc,
    work_items: Vec<Request>,
) -> (Vec<WorkResult>, Vec<usize>) {
    let (tx, rx) = mpsc::channel(100);
    let rx = Arc::new(Mutex::new(rx));
    let (result_tx, mut result_rx) = mpsc::channel(100);
    // Spawn worker tasks.
    let workers: Vec<_> = (0..4)
        .map(|worker| tokio::spawn(worker_task(rx.clone(), alloc.clone(), worker)))
        .collect();
    drop(rx);
    // Send work.
    for request in work_items {
        let item = WorkItem {
            request,
            sender: Some(result_tx.clone()),
        };
        tx.send(item).await.expect("workers alive");
    }
    drop((tx, result_tx)); // the workers stop when the queue is empty
    // Collect results: the channel closes once the last item's sender is dropped.
    let mut results = Vec::new();
    while let Some(result) = result_rx.recv().await {
        results.push(result);
    }
    let mut handled = Vec::new();
    for w in workers {
        handled.push(w.await.expect("worker panicked"));
    }
    (results, handled)
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

    let work: Vec<Request> = (0..40)
        .map(|id| Request {
            id,
            data: vec![1; 40 + id as usize],
        })
        .collect();
    let (mut results, handled) = runtime.block_on(dispatch_work(&alloc, work));
    results.sort_unstable();
    assert_eq!(results.len(), 40, "one result per item");
    for (expected_id, &(id, sum, worker)) in (0..).zip(&results) {
        assert_eq!((id, sum), (expected_id, 40 + id), "item {id}");
        assert!(worker < 4);
    }
    assert_eq!(handled.iter().sum::<usize>(), 40);
    println!("4 workers handled {handled:?} items, one TaskAlloc each");

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
