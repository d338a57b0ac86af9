//! Configuration checks: a value the allocator cannot honour is rejected when the allocator is
//! built (with a message naming the field), never later in the middle of a frame or an
//! allocation, and never as undefined behaviour.

use std::panic::{AssertUnwindSafe, catch_unwind};

use framealloc::{AllocConfig, Overflow, SmartAlloc};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// Review finding 2: `blocks * block` wrapped to 0 for these values, so a pool class reserved a
/// zero-sized slab and carved blocks past it (undefined behaviour; a crash in release builds).
#[test]
fn overflowing_pool_slab_bytes_are_rejected_when_the_allocator_is_built() {
    for bytes in [usize::MAX, usize::MAX - 15, (isize::MAX as usize) + 1] {
        let outcome = catch_unwind(|| {
            let alloc = SmartAlloc::new(AllocConfig {
                pool_slab_bytes: bytes,
                ..Default::default()
            });
            let b = alloc.pool_box(7u64);
            *b
        });
        let msg = panic_message(outcome.expect_err("a slab of this size cannot exist"));
        assert!(
            msg.contains("pool_slab_bytes"),
            "pool_slab_bytes = {bytes}: the panic must name the field, got {msg:?}"
        );
    }
}

/// Review finding 9: `begin_frame` took the arena out of the allocator, then panicked while
/// reserving it, and the allocator had no arena from then on.
#[test]
fn an_impossible_frame_capacity_is_rejected_when_the_allocator_is_built() {
    let built = catch_unwind(|| {
        SmartAlloc::new(AllocConfig {
            frame_capacity: usize::MAX,
            ..Default::default()
        })
    });
    let alloc = match built {
        Err(payload) => {
            let msg = panic_message(payload);
            assert!(msg.contains("frame_capacity"), "got {msg:?}");
            return;
        }
        Ok(alloc) => alloc,
    };
    let first = catch_unwind(AssertUnwindSafe(|| drop(alloc.begin_frame())));
    panic!(
        "SmartAlloc::new accepted frame_capacity = usize::MAX; begin_frame then {}, and the \
         allocator can open a frame afterwards: {}",
        if first.is_err() { "panicked" } else { "worked" },
        alloc.try_begin_frame().is_some()
    );
}

/// `Overflow::Grow` grows the arena so that the last frame would have fitted; it never makes
/// it smaller than the configured capacity (a frame whose only overflow was an over-aligned
/// value used to shrink a 64 KiB arena to 8 KiB, and re-reserve it at every frame).
#[test]
fn grow_never_shrinks_the_arena() {
    #[repr(align(8192))]
    struct Big(#[allow(dead_code)] u8);
    let alloc = SmartAlloc::new(AllocConfig {
        frame_capacity: 64 * 1024,
        frame_overflow: Overflow::Grow,
        ..Default::default()
    });
    for _ in 0..3 {
        let frame = alloc.begin_frame();
        let b = frame.frame_box(Big(1));
        assert_eq!(std::ptr::from_ref::<Big>(&b).addr() % 8192, 0);
        drop(b);
        alloc.end_frame(frame);
        assert_eq!(alloc.stats().frame.reserved_bytes, 64 * 1024);
    }
}

#[test]
fn try_new_names_the_field_and_accepts_every_size_up_to_the_limit() {
    use framealloc::ConfigError;
    let largest = isize::MAX as usize & !4095;
    let frame = |frame_capacity| AllocConfig {
        frame_capacity,
        ..Default::default()
    };
    let pool = |pool_slab_bytes| AllocConfig {
        pool_slab_bytes,
        ..Default::default()
    };
    for ok in [frame(0), frame(1), frame(largest), pool(0), pool(largest)] {
        assert_eq!(ok.validate(), Ok(()));
        // Nothing is reserved when the allocator is built, so even the largest sizes build.
        let alloc = SmartAlloc::try_new(ok).expect("valid");
        assert_eq!(alloc.config(), &ok);
    }
    for bad in [largest + 1, usize::MAX] {
        let err = SmartAlloc::try_new(frame(bad)).expect_err("too large");
        assert_eq!(err, ConfigError::FrameCapacityTooLarge(bad));
        assert!(err.to_string().starts_with("frame_capacity = "), "{err}");
        let err = SmartAlloc::try_new(pool(bad)).expect_err("too large");
        assert_eq!(err, ConfigError::PoolSlabTooLarge(bad));
        assert!(err.to_string().starts_with("pool_slab_bytes = "), "{err}");
        let boxed: Box<dyn std::error::Error> = Box::new(err);
        assert!(boxed.source().is_none());
    }
    assert_eq!(AllocConfig::default().validate(), Ok(()));
}

#[test]
fn a_slab_size_between_blocks_is_rounded_up_to_whole_blocks() {
    // A slab size that is not a multiple of the block: rounded up, every block in bounds.
    let alloc = SmartAlloc::new(AllocConfig {
        pool_slab_bytes: 100,
        ..Default::default()
    });
    let boxes: Vec<_> = (0..20u64).map(|i| alloc.pool_box([i; 8])).collect();
    for (i, b) in (0..20u64).zip(&boxes) {
        assert_eq!(**b, [i; 8]);
    }
    let st = alloc.stats().pool;
    // 64-byte class: 100 bytes round up to 2 blocks (128 bytes) per slab, 10 slabs.
    assert_eq!(st.reserved_bytes, 10 * 128);
    drop(boxes);
    assert_eq!(alloc.stats().pool.live_count(), 0);
}
