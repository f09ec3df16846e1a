//! One request on its way: its encoded frame and the slot its reply lands in, in a
//! single allocation shared by the caller and the session task.
//!
//! This is the one allocation a request costs (the issue's "nothing per request
//! beyond the frame buffer"): a frame of up to [`INLINE_FRAME`] bytes is stored
//! inside it, and the reply is handed over through it instead of through a channel
//! of its own. Larger frames keep their own buffer.
//!
//! The caller awaits a [`ReplyFuture`]; the task holds the [`Completer`]. A completer
//! dropped without an answer (the task ended) resolves the future to `None`.
//!
//! The frame is encoded once, by [`crate::proto::write_frame`], before its xid is
//! known; the task copies it into its write buffer with the xid it assigns
//! ([`Completer::write_with_xid`]), so no frame bytes are touched anywhere else.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};

use crate::error::Error;
use crate::lock::lock;
use crate::proto::frame::LENGTH_PREFIX;
use crate::proto::request::set_xid;
use crate::proto::{Code, Encode, OpCode, write_frame};

/// Frames up to this many bytes are stored inside the call itself: a create or
/// setData with a path and a couple of hundred bytes of data fits.
pub(crate) const INLINE_FRAME: usize = 448;

thread_local! {
    /// Where requests are encoded before they are copied into their call: reused,
    /// so a small request allocates nothing but its call.
    static SCRATCH: RefCell<BytesMut> = RefCell::new(BytesMut::with_capacity(INLINE_FRAME));
}

/// A reply to one request: its result code and the undecoded body, which shares
/// the read buffer's memory. (The header's zxid is recorded by the task.)
#[derive(Debug)]
pub(crate) struct Reply {
    /// The server's result code for the request.
    pub(crate) code: Code,
    /// The response record, still encoded.
    pub(crate) body: Bytes,
}

/// The bytes of one encoded frame.
// Being large is the point of the inline variant: it lives inside the call's one
// allocation, so a small frame needs no buffer of its own.
#[allow(clippy::large_enum_variant)]
enum FrameBytes {
    /// A frame of up to [`INLINE_FRAME`] bytes, stored in the call itself.
    Inline {
        /// How many bytes of `buf` the frame fills.
        len: usize,
        /// The frame, in its first `len` bytes.
        buf: [u8; INLINE_FRAME],
    },
    /// A larger frame, in a buffer of its own.
    Heap(BytesMut),
}

/// What the caller and the task share.
struct Call {
    /// The encoded request, written once and then only read.
    frame: FrameBytes,
    /// Where the reply is handed over.
    slot: Mutex<Slot>,
}

/// The hand-over point between the task and the caller.
#[derive(Default)]
struct Slot {
    /// The reply, once the task has it and until the caller takes it.
    result: Option<Result<Reply, Error>>,
    /// Who to wake when the reply comes: the caller's last poll.
    waker: Option<Waker>,
    /// The task let go of the call without answering it.
    abandoned: bool,
}

impl Call {
    /// Locks the slot.
    fn slot(&self) -> MutexGuard<'_, Slot> {
        // Nothing runs user code under this lock, so it cannot be poisoned in
        // practice; if it were, the slot's data is still consistent.
        lock(&self.slot)
    }
}

/// Encodes a request frame (with a placeholder xid, filled in by
/// [`Completer::write_with_xid`] as the task sends it) and makes its call.
pub(crate) fn encode_request(op: OpCode, record: &impl Encode) -> (Completer, ReplyFuture) {
    new_call(|buf| {
        write_frame(buf, 0, op, record);
    })
}

/// Encodes a frame with `encode` and makes the call that carries it: the task's
/// half (which also shows the frame, so an oversized one can be refused before it
/// is sent) and the caller's.
pub(crate) fn new_call(encode: impl FnOnce(&mut BytesMut)) -> (Completer, ReplyFuture) {
    let call = SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => call_from(&mut scratch, encode),
        // Encoding never re-enters, but a fresh buffer is the safe answer if it did.
        Err(_) => call_from(&mut BytesMut::new(), encode),
    });
    (Completer(Some(call.clone())), ReplyFuture(call))
}

/// Encodes into `scratch` and makes the call: the frame copied into it when it is
/// small, or the buffer itself given to it when it is not (the scratch buffer then
/// starts again small, so a thread never keeps a large one).
fn call_from(scratch: &mut BytesMut, encode: impl FnOnce(&mut BytesMut)) -> Arc<Call> {
    scratch.clear();
    encode(scratch);
    let new = |frame| {
        Arc::new(Call {
            frame,
            slot: Mutex::new(Slot::default()),
        })
    };
    if scratch.len() > INLINE_FRAME {
        let own = std::mem::replace(scratch, BytesMut::with_capacity(INLINE_FRAME));
        return new(FrameBytes::Heap(own));
    }
    // Built empty and filled in place: moving a filled buffer into the allocation
    // would copy all of it, twice, for every request.
    let mut call = new(FrameBytes::Inline {
        len: 0,
        buf: [0; INLINE_FRAME],
    });
    let filled = match Arc::get_mut(&mut call) {
        Some(Call {
            frame: FrameBytes::Inline { len, buf },
            ..
        }) => {
            buf[..scratch.len()].copy_from_slice(scratch);
            *len = scratch.len();
            true
        }
        // A call just made has no other owner, so this does not happen.
        _ => false,
    };
    if filled {
        call
    } else {
        new(FrameBytes::Heap(BytesMut::from(&scratch[..])))
    }
}

/// The task's half: the frame to send and the right to answer.
pub(crate) struct Completer(Option<Arc<Call>>);

impl Completer {
    /// The encoded frame, length prefix included.
    pub(crate) fn frame(&self) -> &[u8] {
        match self.0.as_deref().map(|c| &c.frame) {
            Some(FrameBytes::Inline { len, buf }) => &buf[..*len],
            Some(FrameBytes::Heap(b)) => b,
            None => &[],
        }
    }

    /// The length of the frame's body (without its prefix), as the server's frame
    /// limit counts it.
    pub(crate) fn body_len(&self) -> usize {
        self.frame().len().saturating_sub(LENGTH_PREFIX)
    }

    /// Appends the frame to `wbuf` with `xid` written into its request header.
    pub(crate) fn write_with_xid(&self, wbuf: &mut BytesMut, xid: i32) {
        let at = wbuf.len();
        wbuf.extend_from_slice(self.frame());
        set_xid(&mut wbuf[at..], xid);
    }

    /// Hands the caller its result and wakes it.
    pub(crate) fn complete(mut self, result: Result<Reply, Error>) {
        if let Some(call) = self.0.take() {
            let waker = {
                let mut slot = call.slot();
                slot.result = Some(result);
                slot.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl Drop for Completer {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            let waker = {
                let mut slot = call.slot();
                slot.abandoned = true;
                slot.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl std::fmt::Debug for Completer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completer")
            .field("frame_len", &self.frame().len())
            .finish()
    }
}

/// The caller's half: resolves to the reply, or to `None` if the task let the call
/// go unanswered. It is not a tokio resource, so it takes nothing from tokio's
/// cooperative budget: one task can drive hundreds of requests at once.
pub(crate) struct ReplyFuture(Arc<Call>);

impl Future for ReplyFuture {
    type Output = Option<Result<Reply, Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.0.slot();
        if let Some(result) = slot.result.take() {
            return Poll::Ready(Some(result));
        }
        if slot.abandoned {
            return Poll::Ready(None);
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;
    use std::task::Wake;

    struct Count(std::sync::atomic::AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn poll(f: &mut ReplyFuture, w: &Arc<Count>) -> Poll<Option<Result<Reply, Error>>> {
        let waker = Waker::from(w.clone());
        Pin::new(f).poll(&mut Context::from_waker(&waker))
    }

    fn woken(w: &Count) -> usize {
        w.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn ok(body: &'static [u8]) -> Result<Reply, Error> {
        Ok(Reply {
            code: Code::Ok,
            body: Bytes::from_static(body),
        })
    }

    #[test]
    fn a_small_frame_is_kept_inline_and_a_large_one_in_its_own_buffer() {
        let (small, _) = new_call(|b| b.put_slice(b"hello"));
        assert_eq!(small.frame(), b"hello");
        assert!(matches!(
            small.0.as_deref().unwrap().frame,
            FrameBytes::Inline { .. }
        ));
        let big = vec![7u8; INLINE_FRAME + 1];
        let (large, _) = new_call(|b| b.put_slice(&big));
        assert_eq!(large.frame(), &big[..]);
        assert!(matches!(
            large.0.as_deref().unwrap().frame,
            FrameBytes::Heap(_)
        ));
        // The scratch buffer is reusable after a large frame took its memory.
        let (again, _) = new_call(|b| b.put_slice(b"x"));
        assert_eq!(again.frame(), b"x");
    }

    #[test]
    fn a_reply_given_before_the_first_poll_is_ready_at_once() {
        let (c, mut f) = new_call(|b| b.put_slice(b"f"));
        c.complete(ok(b"body"));
        let w = Arc::new(Count(0.into()));
        match poll(&mut f, &w) {
            Poll::Ready(Some(Ok(r))) => assert_eq!(&r.body[..], b"body"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_waiting_caller_is_woken_by_the_reply() {
        let (c, mut f) = new_call(|b| b.put_slice(b"f"));
        let w = Arc::new(Count(0.into()));
        assert!(poll(&mut f, &w).is_pending());
        assert!(poll(&mut f, &w).is_pending());
        assert_eq!(woken(&w), 0);
        c.complete(Err(Error::Closed));
        assert_eq!(woken(&w), 1);
        assert!(matches!(
            poll(&mut f, &w),
            Poll::Ready(Some(Err(Error::Closed)))
        ));
    }

    #[test]
    fn a_call_dropped_unanswered_resolves_to_none_and_wakes_the_caller() {
        let (c, mut f) = new_call(|b| b.put_slice(b"f"));
        let w = Arc::new(Count(0.into()));
        assert!(poll(&mut f, &w).is_pending());
        drop(c);
        assert_eq!(woken(&w), 1);
        assert!(matches!(poll(&mut f, &w), Poll::Ready(None)));
    }

    #[test]
    fn a_caller_that_gave_up_does_not_stop_the_task_answering() {
        let (c, f) = new_call(|b| b.put_slice(b"f"));
        drop(f);
        c.complete(ok(b""));
    }
}
