//! The main-thread frame loop with `block_on` (upstream framealloc's "Main Thread Coordination"):
//! frame allocation on the thread that runs the loop, async network work in tokio tasks with
//! `TaskAlloc`, and the results handled with frame memory that is reset every frame.
//!
//! The program checks that the frame arena is reused (same address every frame, reserved bytes
//! flat) and that the tasks' pool blocks all came back.
//!
//! Adaptations:
//! * `run` does 30 frames instead of looping forever; the runtime is
//!   `tokio::runtime::Runtime` (upstream framealloc's `tokio::Runtime` does not exist) with two workers.
//! * `begin_frame` returns a `Frame` token that `end_frame` consumes, and frame data comes from
//!   the token (`frame.frame_vec_with_capacity`, `frame.frame_slice`).
//! * Connections and events are stand-ins: each "read" is a `yield_now`.

use framealloc::task::TaskAlloc;
use framealloc::{AllocConfig, SmartAlloc};

/// An event read from a connection.
#[derive(Debug, Clone, Copy)]
struct NetworkEvent {
    connection: u32,
    payload: u32,
}

/// Upstream framealloc's `read_connection_events`: pool allocations held across awaits in a task.
async fn read_connection_events(
    task: &TaskAlloc,
    connection: u32,
    frame_no: u32,
) -> Vec<NetworkEvent> {
    let mut events = task.alloc_vec::<NetworkEvent>();
    for i in 0..4 {
        tokio::task::yield_now().await; // "socket read"
        events.push(NetworkEvent {
            connection,
            payload: frame_no * 100 + i,
        });
    }
    events.into_vec() // the results leave the task as a std Vec
}

struct GameServer {
    alloc: SmartAlloc,
    runtime: tokio::runtime::Runtime,
    connections: Vec<u32>,
    score: u64,
}

impl GameServer {
    fn new() -> Self {
        Self {
            alloc: SmartAlloc::new(AllocConfig {
                frame_capacity: 64 * 1024,
                ..Default::default()
            }),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("runtime"),
            connections: (0..4).collect(),
            score: 0,
        }
    }

    /// Upstream framealloc's `process_network`: one task per connection, each with a `TaskAlloc`.
    async fn process_network(&self, frame_no: u32) -> Vec<NetworkEvent> {
        let mut handles = Vec::new();
        for &connection in &self.connections {
            let alloc = self.alloc.clone();
            handles.push(tokio::spawn(async move {
                let task = TaskAlloc::new(&alloc);
                read_connection_events(&task, connection, frame_no).await
            }));
        }
        let mut all_events = Vec::new();
        for handle in handles {
            all_events.extend(handle.await.expect("network task"));
        }
        all_events
    }

    /// Upstream framealloc's `run`, for a fixed number of frames.
    fn run(&mut self, frames: u32) {
        let mut first_scratch = None;
        for frame_no in 0..frames {
            // Main thread frame allocation.
            let frame = self.alloc.begin_frame();

            // Async network work, on the runtime's workers.
            let network_events = self.runtime.block_on(self.process_network(frame_no));

            // Handle the events with frame memory.
            let mut scratch = frame.frame_vec_with_capacity::<u64>(network_events.len());
            for event in &network_events {
                scratch.push(u64::from(event.payload) + u64::from(event.connection));
            }
            let addr = scratch.as_ptr();
            assert_eq!(*first_scratch.get_or_insert(addr), addr, "arena reused");
            let per_connection = frame.frame_slice(&[0u32; 4]);
            for event in &network_events {
                per_connection[event.connection as usize] += 1;
            }
            assert!(per_connection.iter().all(|&n| n == 4));

            // Update game state.
            self.score += scratch.iter().sum::<u64>();
            drop(scratch);
            self.alloc.end_frame(frame);
        }
    }
}

fn main() {
    let mut server = GameServer::new();
    let frames = 30;
    server.run(frames);

    let per_frame = |f: u64| 4 * (4 * f * 100 + 6) + 4 * 6;
    let expected: u64 = (0..u64::from(frames)).map(per_frame).sum();
    assert_eq!(server.score, expected);

    let st = server.alloc.stats();
    assert_eq!(st.frames, frames as usize);
    assert_eq!(
        st.frame.reserved_bytes,
        64 * 1024,
        "memory flat across frames"
    );
    assert_eq!(st.frame.live_count(), 0);
    assert_eq!(st.pool.live_count(), 0, "task blocks all returned");
    assert_eq!(st.heap.live_count(), 0);
    println!(
        "{frames} frames, score {}; frame tier: {} allocations; pool tier: {} allocations",
        server.score, st.frame.allocations, st.pool.allocations
    );
}
