//! The component's event loop (Spin's executor): letting the other futures of a `join` run.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Resolves on the event loop's next turn, after every other future joined with this one has
/// run up to its own next wait. Spin's executor polls only what a pollable woke (and refuses to
/// wait with none registered), so the turn is an instant that has already passed.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        let now = wasi::clocks::monotonic_clock::subscribe_duration(0);
        spin_executor::push_waker(now, cx.waker().clone());
        Poll::Pending
    }
}
