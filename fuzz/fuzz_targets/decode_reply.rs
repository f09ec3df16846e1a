//! Fuzzes every decoder the client runs on bytes from a server.
//!
//! The input is treated both as a bare record and as a reply frame body: a reply
//! header followed by the record for every kind of reply. Any outcome but a
//! panic (or a huge allocation, which libFuzzer reports) is fine.
//!
//! Run with `cargo fuzz run decode_reply` from the repository root.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use zk_core::proto::ops::*;
use zk_core::proto::{
    ConnectResponse, Decode, Reader, ReplyHeader, SetWatches, SetWatches2, Stat, WatcherEvent,
};

fn decode<T: Decode>(bytes: &Bytes) {
    let _ = T::decode(&mut Reader::new(bytes.clone()));
}

fn decode_bodies(body: &Bytes) {
    decode::<WatcherEvent>(body);
    decode::<Stat>(body);
    decode::<CreateResponse>(body);
    decode::<Create2Response>(body);
    decode::<ExistsResponse>(body);
    decode::<GetDataResponse>(body);
    decode::<SetDataResponse>(body);
    decode::<GetAclResponse>(body);
    decode::<SetAclResponse>(body);
    decode::<GetChildrenResponse>(body);
    decode::<GetChildren2Response>(body);
    decode::<SyncResponse>(body);
    decode::<GetEphemeralsResponse>(body);
    decode::<GetAllChildrenNumberResponse>(body);
    decode::<WhoAmIResponse>(body);
    decode::<MultiResponse>(body);
    decode::<SetWatches>(body);
    decode::<SetWatches2>(body);
}

fuzz_target!(|data: &[u8]| {
    let frame = Bytes::copy_from_slice(data);
    decode::<ConnectResponse>(&frame);
    decode_bodies(&frame);

    let mut r = Reader::new(frame);
    if ReplyHeader::decode(&mut r).is_ok() {
        decode_bodies(&r.into_rest());
    }
});
