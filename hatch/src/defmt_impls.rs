//! `defmt::Format` for the public types (feature `defmt`), with the same words as their `Debug`
//! output and without `T: Format` bounds (the values are not shown, as in `Debug`).

use defmt::{Format, Formatter, write};

use crate::error::{Closed, RecycleError, SendError};
use crate::handle::{FLAG_NAMES, Handle};
use crate::shared::{Hatch, Words};
use crate::{Receiver, Receiving, Sender, Sending};

impl<T> Format for SendError<T> {
    fn format(&self, f: Formatter<'_>) {
        match self {
            Self::Full(_) => write!(f, "Full(..)"),
            Self::Closed(_) => write!(f, "Closed(..)"),
        }
    }
}

impl Format for Closed {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "Closed");
    }
}

impl Format for RecycleError {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "RecycleError(PeerAlive)");
    }
}

impl<T> Format for Hatch<T> {
    fn format(&self, f: Formatter<'_>) {
        let w = Words::of(self.peek());
        write!(
            f,
            "Hatch {{ slot: {=str}, sender: {=str}, receiver: {=str}, usage: {=str} }}",
            w.slot, w.sender, w.receiver, w.usage
        );
    }
}

/// `name { hatch: …, flags: {a, b} }`.
fn handle<T>(f: Formatter<'_>, name: &str, handle: &Handle<'_, T>) {
    let (hatch, flags) = (handle.hatch(), handle.flags);
    write!(f, "{=str} {{ hatch: {}, flags: {{", name, hatch);
    let mut first = true;
    for (flag, flag_name) in FLAG_NAMES {
        if flags & flag != 0 {
            if !first {
                write!(f, ", ");
            }
            write!(f, "{=str}", flag_name);
            first = false;
        }
    }
    write!(f, "}} }}");
}

impl<T> Format for Sender<'_, T> {
    fn format(&self, f: Formatter<'_>) {
        handle(f, "Sender", &self.handle);
    }
}

impl<T> Format for Receiver<'_, T> {
    fn format(&self, f: Formatter<'_>) {
        handle(f, "Receiver", &self.handle);
    }
}

impl<T> Format for Sending<'_, '_, T> {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "Sending {{ pending: {=bool}, .. }}", self.is_pending());
    }
}

impl<T> Format for Receiving<'_, '_, T> {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "Receiving {{ parked: {=bool}, .. }}", self.is_parked());
    }
}

#[cfg(feature = "async")]
impl<T> Format for crate::Wait<'_, '_, T> {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "Wait {{ .. }}");
    }
}
