//! Behaviour of `WaitQueue`: FIFO order, tokens, cancellation pass-on, full queue, waker counts.
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use futures_lite::future::block_on;
use sync_core::testing::WakeCounter;
use sync_core::{QueueFull, WaitQueue};

#[test]
fn notify_goes_to_the_oldest_waiter_first() {
    let queue = WaitQueue::<3>::new();
    let counters = [WakeCounter::new(), WakeCounter::new(), WakeCounter::new()];
    let mut tickets: Vec<_> = counters
        .iter()
        .map(|c| Some(queue.enqueue(&c.waker()).unwrap()))
        .collect();
    assert_eq!(queue.len(), 3);
    queue.notify_one(10).unwrap();
    assert_eq!(
        counters.iter().map(WakeCounter::wakes).collect::<Vec<_>>(),
        [1, 0, 0]
    );
    queue.notify_one(11).unwrap();
    assert_eq!(
        counters.iter().map(WakeCounter::wakes).collect::<Vec<_>>(),
        [1, 1, 0]
    );
    assert_eq!(queue.len(), 1);
    let waker = counters[0].waker();
    assert_eq!(queue.poll_ticket(&mut tickets[0], &waker), Poll::Ready(10));
    assert!(tickets[0].is_none(), "a ready ticket is consumed");
    assert_eq!(queue.poll_ticket(&mut tickets[1], &waker), Poll::Ready(11));
    assert_eq!(queue.poll_ticket(&mut tickets[2], &waker), Poll::Pending);
    assert_eq!(queue.cancel(tickets[2].take().unwrap()), None);
    assert!(queue.is_empty());
    drop(waker);
    assert!(
        counters.iter().all(|c| c.live() == 0),
        "the queue keeps no waker"
    );
}

#[test]
fn a_full_queue_is_reported_not_a_panic() {
    let queue = WaitQueue::<2>::new();
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let a = queue.enqueue(&waker).unwrap();
    let b = queue.enqueue(&waker).unwrap();
    assert_eq!(queue.enqueue(&waker), Err(QueueFull));
    assert_eq!(counter.live(), 3, "the rejected clone was dropped");
    queue.cancel(a);
    let c = queue
        .enqueue(&waker)
        .expect("a cancelled place is free again");
    queue.cancel(b);
    queue.cancel(c);
    drop(waker);
    assert_eq!(counter.live(), 0);
}

/// A new queue (all zeros) hands out its places in order; freed places are reused last freed
/// first, in any order, and the free list survives being emptied and refilled.
#[test]
fn places_are_handed_out_in_order_then_reused() {
    let queue = WaitQueue::<4>::new();
    let waker = WakeCounter::new().waker();
    let mut tickets: Vec<_> = (0..4).map(|_| queue.enqueue(&waker).unwrap()).collect();
    assert_eq!(
        tickets.iter().map(|t| t.index()).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(queue.enqueue(&waker), Err(QueueFull));
    for i in [2, 0, 3, 1] {
        let ticket = tickets.remove(tickets.iter().position(|t| t.index() == i).unwrap());
        assert_eq!(queue.cancel(ticket), None);
    }
    let again: Vec<_> = (0..4).map(|_| queue.enqueue(&waker).unwrap()).collect();
    assert_eq!(
        again.iter().map(|t| t.index()).collect::<Vec<_>>(),
        [1, 3, 0, 2]
    );
    assert_eq!(queue.enqueue(&waker), Err(QueueFull));
    for ticket in again {
        assert_eq!(queue.cancel(ticket), None);
    }
    assert!(queue.is_empty());
}

#[test]
fn zero_places_is_always_full() {
    let queue = WaitQueue::<0>::new();
    assert_eq!(queue.enqueue(&WakeCounter::new().waker()), Err(QueueFull));
    assert_eq!(queue.notify_one(3), Err(3));
    assert!(!queue.wake_one());
}

#[test]
fn cancel_after_notify_passes_the_token_to_the_next_waiter() {
    let queue = WaitQueue::<3>::new();
    let (first, second) = (WakeCounter::new(), WakeCounter::new());
    let a = queue.enqueue(&first.waker()).unwrap();
    let mut b = Some(queue.enqueue(&second.waker()).unwrap());
    queue.notify_one(42).unwrap();
    assert_eq!(first.wakes(), 1);
    assert_eq!(queue.cancel(a), None, "passed on, not returned");
    assert_eq!(second.wakes(), 1, "the next waiter was woken");
    assert_eq!(queue.poll_ticket(&mut b, &second.waker()), Poll::Ready(42));
}

#[test]
fn cancel_after_notify_with_nobody_waiting_returns_the_token() {
    let queue = WaitQueue::<1>::new();
    let a = queue.enqueue(&WakeCounter::new().waker()).unwrap();
    queue.notify_one(7).unwrap();
    assert_eq!(queue.cancel(a), Some(7));
}

#[test]
fn cancel_in_the_middle_keeps_the_order() {
    let queue = WaitQueue::<4>::new();
    let counters: Vec<_> = (0..4).map(|_| WakeCounter::new()).collect();
    let mut tickets: Vec<_> = counters
        .iter()
        .map(|c| Some(queue.enqueue(&c.waker()).unwrap()))
        .collect();
    queue.cancel(tickets[1].take().unwrap());
    queue.cancel(tickets[2].take().unwrap());
    queue.notify_one(1).unwrap();
    queue.notify_one(2).unwrap();
    assert_eq!(
        counters.iter().map(WakeCounter::wakes).collect::<Vec<_>>(),
        [1, 0, 0, 1]
    );
    assert_eq!(queue.notify_one(3), Err(3));
    for ticket in &mut tickets {
        if ticket.is_some() {
            assert!(queue.poll_ticket(ticket, &counters[0].waker()).is_ready());
        }
    }
}

#[test]
fn repolling_with_the_same_waker_does_not_clone_and_a_new_waker_replaces_the_old() {
    let queue = WaitQueue::<1>::new();
    let (first, second) = (WakeCounter::new(), WakeCounter::new());
    let waker = first.waker();
    let mut ticket = Some(queue.enqueue(&waker).unwrap());
    for _ in 0..3 {
        assert_eq!(queue.poll_ticket(&mut ticket, &waker), Poll::Pending);
    }
    assert_eq!(first.clones(), 1);
    assert_eq!(
        queue.poll_ticket(&mut ticket, &second.waker()),
        Poll::Pending
    );
    assert_eq!(
        first.live(),
        1,
        "the queue dropped its clone of the first waker"
    );
    queue.wake_one();
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
    assert!(queue.poll_ticket(&mut ticket, &waker).is_ready());
}

#[test]
fn wake_all_wakes_exactly_the_waiting_ones() {
    let queue = WaitQueue::<4>::new();
    let counters: Vec<_> = (0..3).map(|_| WakeCounter::new()).collect();
    let mut tickets: Vec<_> = counters
        .iter()
        .map(|c| Some(queue.enqueue(&c.waker()).unwrap()))
        .collect();
    assert_eq!(queue.wake_all(), 3);
    assert!(counters.iter().all(|c| c.wakes() == 1));
    assert_eq!(queue.wake_all(), 0, "notified places are not woken twice");
    for ticket in &mut tickets {
        assert_eq!(
            queue.poll_ticket(ticket, &counters[0].waker()),
            Poll::Ready(0)
        );
    }
    assert!(counters.iter().all(|c| c.live() == 0));
}

#[test]
fn wait_future_completes_with_the_token_and_cancels_on_drop() {
    let queue = WaitQueue::<2>::new();
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut first = pin!(queue.wait());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let mut second = pin!(queue.wait());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        queue.notify_one(5).unwrap();
        // `first` is dropped without seeing its token: it passes to `second`.
    }
    assert_eq!(queue.len(), 0);
    let mut third = pin!(queue.wait());
    assert!(third.as_mut().poll(&mut cx).is_pending());
    queue.notify_one(6).unwrap();
    assert_eq!(third.as_mut().poll(&mut cx), Poll::Ready(Ok(6)));
}

use std::future::Future;

#[test]
fn threads_released_in_fifo_order_get_every_token_once() {
    let waiters = if cfg!(miri) { 3 } else { 16 };
    let queue = Arc::new(WaitQueue::<16>::new());
    let handles: Vec<_> = (0..waiters)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.wait()).unwrap())
        })
        .collect();
    let mut sent = 0;
    while sent < waiters {
        if queue.notify_one(sent).is_ok() {
            sent += 1;
        } else {
            thread::yield_now();
        }
    }
    let mut got: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(
        got,
        (0..waiters).collect::<Vec<_>>(),
        "every token delivered exactly once"
    );
}

/// A notified place carries its token in the word that held its links: every `usize` value up to
/// `MAX_TOKEN`, including ones whose low bits look like links (`NIL` is `0x7fff`), round-trips
/// through `poll_ticket`, a pass-on in `cancel` and the return of `cancel`, and the waiting list
/// stays intact around notified places.
#[test]
fn every_token_up_to_max_token_round_trips() {
    let queue = WaitQueue::<4>::new();
    let counters: Vec<_> = (0..4).map(|_| WakeCounter::new()).collect();
    let max = WaitQueue::<4>::MAX_TOKEN;
    assert_eq!(max, usize::MAX >> 1);
    let big = max - 0x1_0002; // low halves 0xfffd / 0xfffe (or 0xfffd / 0x7fff on 32-bit)
    // A token above the maximum is refused before the queue changes.
    let refused = std::panic::catch_unwind(|| WaitQueue::<1>::new().notify_one(max + 1));
    assert!(refused.is_err(), "a token above MAX_TOKEN panics");
    let tokens = [max, big, 0, 1, 0x7fff_0000, 0x7fff_7fff, max >> 1];
    for token in tokens {
        let mut tickets: Vec<_> = counters
            .iter()
            .map(|c| Some(queue.enqueue(&c.waker()).unwrap()))
            .collect();
        // Notify the oldest two, then take the middle ones out of order around them.
        queue.notify_one(token).unwrap();
        queue.notify_one(token ^ 1).unwrap();
        assert_eq!(queue.cancel(tickets[2].take().unwrap()), None);
        // The first place's token passes on to the last waiter, the only one left.
        assert_eq!(queue.cancel(tickets[0].take().unwrap()), None);
        assert_eq!(queue.len(), 0);
        let waker = counters[0].waker();
        assert_eq!(
            queue.poll_ticket(&mut tickets[3], &waker),
            Poll::Ready(token)
        );
        // Nobody waits: the second token comes back from `cancel`.
        assert_eq!(queue.cancel(tickets[1].take().unwrap()), Some(token ^ 1));
        assert!(tickets.iter().all(Option::is_none));
        // Every place is free again and the list works from scratch.
        let again: Vec<_> = (0..4).map(|_| queue.enqueue(&waker).unwrap()).collect();
        assert_eq!(queue.enqueue(&waker), Err(QueueFull));
        assert_eq!(queue.len(), 4);
        for ticket in again {
            assert_eq!(queue.cancel(ticket), None);
        }
        assert!(queue.is_empty());
    }
    assert!(counters.iter().all(|c| c.live() == 0));
    assert_eq!(
        counters.iter().map(WakeCounter::wakes).collect::<Vec<_>>(),
        [tokens.len(), tokens.len(), 0, tokens.len()],
        "each round wakes the first two and the last (by pass-on), never the cancelled one"
    );
}

/// A waker that queues its task again when woken, as a busy task might.
struct Requeue {
    queue: Arc<WaitQueue<8>>,
    wakes: AtomicUsize,
    requeued: Mutex<Vec<sync_core::Ticket>>,
    fresh: WakeCounter,
}

impl Wake for Requeue {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        let ticket = self.queue.enqueue(&self.fresh.waker()).unwrap();
        self.requeued.lock().unwrap().push(ticket);
    }
}

#[test]
fn wake_all_stops_after_the_waiters_of_its_start() {
    let queue = Arc::new(WaitQueue::<8>::new());
    let requeue = Arc::new(Requeue {
        queue: queue.clone(),
        wakes: AtomicUsize::new(0),
        requeued: Mutex::new(Vec::new()),
        fresh: WakeCounter::new(),
    });
    let waker = Waker::from(requeue.clone());
    let mut tickets: Vec<_> = (0..3)
        .map(|_| Some(queue.enqueue(&waker).unwrap()))
        .collect();
    assert_eq!(queue.wake_all(), 3);
    assert_eq!(requeue.wakes.load(SeqCst), 3);
    assert_eq!(queue.len(), 3, "the tasks queued again while woken");
    assert_eq!(requeue.fresh.wakes(), 0, "and were not woken again");
    for ticket in &mut tickets {
        assert_eq!(queue.poll_ticket(ticket, &waker), Poll::Ready(0));
    }
    assert_eq!(queue.wake_all(), 3);
    assert_eq!(requeue.fresh.wakes(), 3);
    for ticket in requeue.requeued.lock().unwrap().drain(..) {
        assert_eq!(
            queue.cancel(ticket),
            Some(0),
            "all notified: nobody to pass it to"
        );
    }
    assert!(queue.is_empty());
    drop(waker);
    assert_eq!(Arc::strong_count(&requeue), 1, "the queue keeps no waker");
    assert_eq!(requeue.fresh.live(), 0);
}

/// The sizes the crate docs state (64-bit host): a waker slot is one word of state plus one
/// `Option<Waker>`; a queue is an 8-byte header plus, per place, a waker and one word (links or
/// token). The 32-bit sizes (8 + 12·N) are a const assertion in the crate, checked by every build.
#[test]
#[cfg(target_pointer_width = "64")]
fn documented_sizes() {
    use std::mem::size_of;
    assert_eq!(size_of::<sync_core::AtomicWaker>(), 24);
    assert_eq!(size_of::<WaitQueue<0>>(), 8);
    assert_eq!(size_of::<WaitQueue<1>>(), 32);
    assert_eq!(size_of::<WaitQueue<4>>(), 104);
}

/// A ticket used with a queue that did not issue it must not corrupt that queue: its place is
/// free there, and freeing it again used to make the free list loop, so that two later waiters
/// shared one place (the second `enqueue` then dropped the first one's waker inside the critical
/// section). Now each such use panics before anything changes, and the queue stays intact.
#[test]
fn a_ticket_of_another_queue_is_refused_and_leaves_the_queue_intact() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let a = WaitQueue::<2>::new();
    let b = WaitQueue::<2>::new();
    let noop = Waker::noop();

    let mut foreign = Some(a.enqueue(noop).unwrap());
    let polled = catch_unwind(AssertUnwindSafe(|| b.poll_ticket(&mut foreign, noop)));
    assert!(polled.is_err(), "poll_ticket with a foreign ticket panics");
    let cancelled = catch_unwind(AssertUnwindSafe(|| b.cancel(foreign.take().unwrap())));
    assert!(cancelled.is_err(), "cancel with a foreign ticket panics");
    // A ticket for a place beyond the queue's size is refused too.
    let big = WaitQueue::<4>::new();
    let tickets: Vec<_> = (0..4).map(|_| big.enqueue(noop).unwrap()).collect();
    let mut far = tickets.into_iter().last();
    assert!(catch_unwind(AssertUnwindSafe(|| b.poll_ticket(&mut far, noop))).is_err());

    // `b` still hands out two distinct places, then reports full.
    let counter = WakeCounter::new();
    let first = b.enqueue(&counter.waker()).unwrap();
    let second = b.enqueue(&counter.waker()).unwrap();
    assert_ne!(first.index(), second.index(), "two waiters, two places");
    assert_eq!(b.enqueue(noop), Err(QueueFull));
    assert_eq!(b.notify_one(7), Ok(()));
    assert_eq!(b.notify_one(8), Ok(()));
    assert_eq!(counter.wakes(), 2, "both waiters woken");
    assert_eq!(b.poll_ticket(&mut Some(first), noop), Poll::Ready(7));
    assert_eq!(b.poll_ticket(&mut Some(second), noop), Poll::Ready(8));
}
