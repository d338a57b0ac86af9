//! Metadata: a future that borrows its task's metadata (through `spawn_unchecked`), a schedule
//! function that updates it, and metadata together with user data.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_lite::future::block_on;
use task_ffi::{Builder, Runnable};

#[test]
fn metadata_use_case() {
    let queue: Arc<Mutex<Vec<Runnable<AtomicUsize>>>> = Arc::default();
    let q2 = queue.clone();
    let schedule = move |r: Runnable<AtomicUsize>| {
        r.metadata().fetch_add(1, SeqCst);
        q2.lock().unwrap().push(r);
    };
    // SAFETY: everything stays on this thread and the future only borrows the metadata, which
    // lives as long as the task.
    let (runnable, task) = unsafe {
        Builder::new()
            .metadata(AtomicUsize::new(0))
            .spawn_unchecked(
                |count: &AtomicUsize| {
                    std::future::poll_fn(move |cx| {
                        if count.load(SeqCst) < 5 {
                            cx.waker().wake_by_ref();
                            Poll::Pending
                        } else {
                            Poll::Ready(count.load(SeqCst))
                        }
                    })
                },
                schedule,
            )
    };
    runnable.schedule();
    loop {
        let next = queue.lock().unwrap().pop();
        let Some(r) = next else { break };
        r.run();
    }
    assert_eq!(task.metadata().load(SeqCst), 5);
    assert_eq!(block_on(task), 5);
}

#[test]
fn metadata_and_data_together() {
    struct Meta(Arc<AtomicUsize>);
    impl Drop for Meta {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut runnable, task) =
        Builder::new()
            .metadata(Meta(drops.clone()))
            .spawn_with(|_| async { 3 }, |_| {}, [1u8; 3]);
    runnable.data_mut()[0] = 9;
    assert_eq!(runnable.data(), &[9, 1, 1]);
    assert!(Arc::ptr_eq(&runnable.metadata().0, &task.metadata().0));
    runnable.run();
    assert_eq!(drops.load(SeqCst), 0);
    assert_eq!(block_on(task), 3);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn builder_default_and_debug() {
    let builder: Builder<u8> = Builder::default();
    let text = format!("{builder:?}");
    assert!(text.contains("metadata: 0"), "{text}");
    let (runnable, task) = builder.spawn(|_| async {}, |_| {});
    assert!(format!("{runnable:?}").contains("Runnable"));
    assert!(format!("{task:?}").contains("completed: false"));
    runnable.run();
    assert!(format!("{task:?}").contains("completed: true"));
}

#[cfg(feature = "std")]
#[test]
fn local_task_with_data() {
    let value = std::rc::Rc::new(std::cell::RefCell::new(1));
    let v2 = value.clone();
    let (mut runnable, task) = task_ffi::spawn_local_with(
        async move {
            *v2.borrow_mut() += 1;
            *v2.borrow()
        },
        |_| {},
        String::from("local"),
    );
    runnable.data_mut().push('!');
    assert_eq!(runnable.data(), "local!");
    runnable.run();
    assert_eq!(block_on(task), 2);
    assert_eq!(*value.borrow(), 2);
}

/// async-task style code: closures whose parameter type is inferred from the spawn bounds.
#[test]
fn async_task_style_inference() {
    let queue = std::sync::Arc::new(Mutex::new(Vec::new()));
    let q = queue.clone();
    let (runnable, task) = task_ffi::spawn(async { 2 }, move |runnable| {
        q.lock().unwrap().push(runnable);
    });
    runnable.schedule();
    let r = queue.lock().unwrap().pop().unwrap();
    assert!(!r.run());
    assert_eq!(block_on(task), 2);

    // As with async-task's `Schedule` trait, a closure that calls methods on the runnable
    // before anything else fixes its type needs an annotation.
    let (runnable, task) = Builder::new().metadata(3usize).spawn(
        |m| {
            let m = *m;
            async move { m }
        },
        |runnable: Runnable<usize>| {
            let _: &usize = runnable.metadata();
            runnable.run();
        },
    );
    runnable.schedule();
    assert_eq!(block_on(task), 3);
}
