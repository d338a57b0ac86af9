//! Error types: [`SendError`], [`Closed`] and [`RecycleError`].

use core::fmt;

/// A send that failed; it gives the value back.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendError<T> {
    /// The slot still holds an unreceived value and the sender does not overwrite.
    Full(T),
    /// The receiver has closed or been dropped.
    Closed(T),
}

impl<T> SendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// let (mut s, r) = hatch::hatch::<String>();
    /// drop(r);
    /// let err = s.send("hi".to_string()).now().unwrap_err();
    /// assert_eq!(err.into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(value) | Self::Closed(value) => value,
        }
    }

    /// Whether the send failed because the receiver closed.
    pub const fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No `T: Debug` bound, like std's channel errors.
        f.write_str(match self {
            Self::Full(_) => "Full(..)",
            Self::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "the hatch already holds a value",
            Self::Closed(_) => "the receiver has closed",
        })
    }
}

impl<T> core::error::Error for SendError<T> {}

/// The other side has closed: no value will come, or no value can be delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the hatch is closed")
    }
}

impl core::error::Error for Closed {}

/// `recycle()` failed because the other side's handle is still alive.
///
/// ```
/// let (mut s, _r) = hatch::hatch::<u8>();
/// let err = s.recycle().unwrap_err();
/// assert_eq!(format!("{err:?}"), "RecycleError(PeerAlive)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecycleError(pub(crate) ());

impl fmt::Debug for RecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecycleError(PeerAlive)")
    }
}

impl fmt::Display for RecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot recycle: the peer is still alive")
    }
}

impl core::error::Error for RecycleError {}
