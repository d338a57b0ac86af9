//! `const_fn!`: constructors that are `const` normally and plain under loom.
//!
//! loom's atomics and cells have no `const fn new` (tokio-rs/loom#170), but the frugal crates
//! need `const` constructors so their objects can live in `static`s. Wrapping a constructor in
//! [`const_fn!`](crate::const_fn) emits `const fn` in normal builds and a plain `fn` under
//! `cfg(loom)`, where objects are built inside `loom::model` instead of in statics.

/// Declares functions that are `const fn` except under `cfg(loom)`.
///
/// The `cfg` is evaluated in the crate that invokes the macro; `--cfg loom` is passed to every
/// crate by `RUSTFLAGS`, so all crates agree.
///
/// # Examples
///
/// ```
/// use sync_core::sync::atomic::AtomicUsize;
///
/// /// A counter that can live in a `static`.
/// pub struct Counter(AtomicUsize);
///
/// impl Counter {
///     sync_core::const_fn! {
///         /// Creates a counter at zero.
///         pub const fn new() -> Self {
///             Self(AtomicUsize::new(0))
///         }
///     }
/// }
///
/// static COUNTER: Counter = Counter::new();
/// # let _ = &COUNTER.0;
/// ```
#[macro_export]
macro_rules! const_fn {
    ($(
        $(#[$attr:meta])*
        $vis:vis const fn $name:ident $(<$($gen:tt),* $(,)?>)? ($($args:tt)*) $(-> $ret:ty)? $body:block
    )*) => {$(
        $(#[$attr])*
        #[cfg(not(loom))]
        $vis const fn $name $(<$($gen),*>)? ($($args)*) $(-> $ret)? $body

        $(#[$attr])*
        #[cfg(loom)]
        $vis fn $name $(<$($gen),*>)? ($($args)*) $(-> $ret)? $body
    )*};
}
