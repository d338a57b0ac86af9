//! The schedule function: the [`Schedule`] trait, [`ScheduleInfo`] and [`WithInfo`].

use core::fmt;

use crate::Runnable;

/// What the task tells its schedule function about why it is scheduled.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScheduleInfo {
    /// The task was woken while its future was being polled, so it is scheduled again right
    /// after that poll. Executors often push such tasks to the back of a queue (fairness) and
    /// others to a fast slot (locality).
    pub woken_while_running: bool,
}

impl ScheduleInfo {
    pub(crate) const fn new(woken_while_running: bool) -> Self {
        Self {
            woken_while_running,
        }
    }
}

/// A schedule function: called with the [`Runnable`] whenever the task is woken.
///
/// Implemented for closures `Fn(Runnable<M, D>)` and, for closures that also want the
/// [`ScheduleInfo`], for [`WithInfo`]. The trait is sealed.
///
/// # Examples
///
/// ```
/// use task_ffi::{Runnable, ScheduleInfo, WithInfo};
///
/// let (runnable, task) = task_ffi::spawn(
///     async { 1 },
///     WithInfo(|runnable: Runnable, info: ScheduleInfo| {
///         assert!(!info.woken_while_running);
///         runnable.run();
///     }),
/// );
/// runnable.schedule();
/// assert!(task.is_finished());
/// ```
pub trait Schedule<M = (), D = ()>: sealed::Sealed<M, D> {
    /// Schedules `runnable`.
    fn schedule(&self, runnable: Runnable<M, D>, info: ScheduleInfo);
}

mod sealed {
    /// Seals [`Schedule`](super::Schedule).
    pub trait Sealed<M, D> {}
}

impl<M, D, F> sealed::Sealed<M, D> for F where F: Fn(Runnable<M, D>) {}

impl<M, D, F> Schedule<M, D> for F
where
    F: Fn(Runnable<M, D>),
{
    #[inline]
    fn schedule(&self, runnable: Runnable<M, D>, _: ScheduleInfo) {
        self(runnable);
    }
}

/// Wraps a schedule closure that takes a [`ScheduleInfo`] as well as the [`Runnable`].
#[derive(Copy, Clone)]
pub struct WithInfo<F>(pub F);

impl<F> From<F> for WithInfo<F> {
    fn from(f: F) -> Self {
        Self(f)
    }
}

impl<F> fmt::Debug for WithInfo<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WithInfo(..)")
    }
}

impl<M, D, F> sealed::Sealed<M, D> for WithInfo<F> where F: Fn(Runnable<M, D>, ScheduleInfo) {}

impl<M, D, F> Schedule<M, D> for WithInfo<F>
where
    F: Fn(Runnable<M, D>, ScheduleInfo),
{
    #[inline]
    fn schedule(&self, runnable: Runnable<M, D>, info: ScheduleInfo) {
        (self.0)(runnable, info);
    }
}
