//! Property tests for the wire decoders: no input makes one panic, and records
//! survive an encode/decode round trip.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use zk_core::proto::ops::*;
use zk_core::proto::{
    Acl, AuthPacket, ConnectRequest, ConnectResponse, Decode, DecodeError, Encode, Id, Perms,
    Reader, ReplyHeader, RequestHeader, SetWatches, SetWatches2, Stat, WatcherEvent,
};

/// Runs `T::decode` on `bytes`; the result may be anything but a panic.
fn decode<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    T::decode(&mut Reader::new(Bytes::copy_from_slice(bytes)))
}

/// Every decoder a client runs on bytes from a server.
fn decode_all(bytes: &[u8]) {
    let _ = decode::<ReplyHeader>(bytes);
    let _ = decode::<ConnectResponse>(bytes);
    let _ = decode::<WatcherEvent>(bytes);
    let _ = decode::<Stat>(bytes);
    let _ = decode::<CreateResponse>(bytes);
    let _ = decode::<Create2Response>(bytes);
    let _ = decode::<ExistsResponse>(bytes);
    let _ = decode::<GetDataResponse>(bytes);
    let _ = decode::<SetDataResponse>(bytes);
    let _ = decode::<GetAclResponse>(bytes);
    let _ = decode::<SetAclResponse>(bytes);
    let _ = decode::<GetChildrenResponse>(bytes);
    let _ = decode::<GetChildren2Response>(bytes);
    let _ = decode::<SyncResponse>(bytes);
    let _ = decode::<GetEphemeralsResponse>(bytes);
    let _ = decode::<GetAllChildrenNumberResponse>(bytes);
    let _ = decode::<WhoAmIResponse>(bytes);
    let _ = decode::<MultiResponse>(bytes);
    // Records a scripted test server reads from the client.
    let _ = decode::<ConnectRequest>(bytes);
    let _ = decode::<RequestHeader>(bytes);
    let _ = decode::<AuthPacket>(bytes);
    let _ = decode::<SetWatches>(bytes);
    let _ = decode::<SetWatches2>(bytes);
}

fn encoded(record: &impl Encode) -> Bytes {
    let mut buf = BytesMut::new();
    record.encode(&mut buf);
    buf.freeze()
}

fn stat() -> impl Strategy<Value = Stat> {
    (
        any::<[i64; 4]>(),
        any::<[i32; 3]>(),
        any::<i64>(),
        any::<[i32; 2]>(),
        any::<i64>(),
    )
        .prop_map(|(l, v, owner, n, pzxid)| Stat {
            czxid: l[0],
            mzxid: l[1],
            ctime: l[2],
            mtime: l[3],
            version: v[0],
            cversion: v[1],
            aversion: v[2],
            ephemeral_owner: owner,
            data_length: n[0],
            num_children: n[1],
            pzxid,
        })
}

fn op_result() -> impl Strategy<Value = OpResult> {
    prop_oneof![
        ".{0,8}".prop_map(|path| OpResult::Create { path }),
        (".{0,8}", stat()).prop_map(|(path, stat)| OpResult::Create2 { path, stat }),
        Just(OpResult::Delete),
        stat().prop_map(|stat| OpResult::SetData { stat }),
        Just(OpResult::Check),
        (proptest::collection::vec(any::<u8>(), 0..16), stat()).prop_map(|(d, stat)| {
            OpResult::GetData {
                data: Bytes::from(d),
                stat,
            }
        }),
        proptest::collection::vec(".{0,6}", 0..4)
            .prop_map(|children| OpResult::GetChildren { children }),
        any::<i32>().prop_map(|v| OpResult::Error {
            code: zk_core::proto::Code::from_i32(v)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic_a_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn valid_records_with_corrupted_tails_never_panic(
        results in proptest::collection::vec(op_result(), 0..6),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        // Start from a well-formed multi response so the decoders get deep, then
        // truncate it and overwrite one byte.
        let mut bytes = encoded(&MultiResponse { results }).to_vec();
        let len = cut.index(bytes.len() + 1);
        bytes.truncate(len);
        if !bytes.is_empty() {
            let at = flip.index(bytes.len());
            bytes[at] = byte;
        }
        decode_all(&bytes);
    }

    #[test]
    fn multi_response_round_trips(results in proptest::collection::vec(op_result(), 0..8)) {
        let resp = MultiResponse { results };
        let mut r = Reader::new(encoded(&resp));
        prop_assert_eq!(MultiResponse::decode(&mut r).unwrap(), resp);
        prop_assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn stat_and_acl_responses_round_trip(
        s in stat(),
        perms in any::<u32>(),
        scheme in ".{0,8}",
        id in ".{0,8}",
    ) {
        let resp = GetAclResponse { acl: vec![Acl { perms: Perms(perms), id: Id { scheme, id } }], stat: s };
        let mut r = Reader::new(encoded(&resp));
        prop_assert_eq!(GetAclResponse::decode(&mut r).unwrap(), resp);
    }

    #[test]
    fn set_watches2_round_trips_and_knows_its_length(
        zxid in any::<i64>(),
        lists in proptest::collection::vec(proptest::collection::vec("/.{0,12}", 0..5), 5),
    ) {
        let sw = SetWatches2 {
            relative_zxid: zxid,
            data_watches: lists[0].clone(),
            exist_watches: lists[1].clone(),
            child_watches: lists[2].clone(),
            persistent_watches: lists[3].clone(),
            persistent_recursive_watches: lists[4].clone(),
        };
        let bytes = encoded(&sw);
        prop_assert_eq!(bytes.len(), sw.encoded_len());
        let mut r = Reader::new(bytes);
        prop_assert_eq!(SetWatches2::decode(&mut r).unwrap(), sw);
    }
}

#[test]
fn empty_input_is_an_error_for_every_record_with_fields() {
    assert!(decode::<ReplyHeader>(&[]).is_err());
    assert!(decode::<ConnectResponse>(&[]).is_err());
    assert!(decode::<WatcherEvent>(&[]).is_err());
    assert!(decode::<MultiResponse>(&[]).is_err());
    assert!(decode::<GetDataResponse>(&[]).is_err());
    assert!(decode::<GetChildrenResponse>(&[]).is_err());
    assert!(decode::<WhoAmIResponse>(&[]).is_err());
}

#[test]
fn a_huge_claimed_length_is_refused_without_allocating() {
    // A buffer length of i32::MAX followed by nothing.
    let bytes = [0x7f, 0xff, 0xff, 0xff];
    assert!(matches!(
        decode::<GetDataResponse>(&bytes),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(matches!(
        decode::<GetAclResponse>(&bytes),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(matches!(
        decode::<WhoAmIResponse>(&bytes),
        Err(DecodeError::Truncated { .. })
    ));
}
