//! Request records and their responses, one file per family of operations.
//!
//! Every request implements [`super::Request`]; its `Response` is what follows the
//! reply header when the reply's error code is 0. A failed request has no body.

pub mod acl;
pub mod children;
pub mod create;
pub mod multi;
pub mod node;
pub mod sasl;
pub mod session;
pub mod watches;

pub use acl::{GetAclRequest, GetAclResponse, SetAclRequest, SetAclResponse};
pub use children::{
    GetAllChildrenNumberRequest, GetAllChildrenNumberResponse, GetChildren2Request,
    GetChildren2Response, GetChildrenRequest, GetChildrenResponse, GetEphemeralsRequest,
    GetEphemeralsResponse,
};
pub use create::{
    Create2Request, Create2Response, CreateContainerRequest, CreateRequest, CreateResponse,
    CreateTtlRequest,
};
pub use multi::{
    MultiOp, MultiOpsError, MultiReadRequest, MultiRequest, MultiResponse, OpResult,
    check_multi_ops,
};
pub use node::{
    CheckVersionRequest, DeleteRequest, ExistsRequest, ExistsResponse, GetDataRequest,
    GetDataResponse, SetDataRequest, SetDataResponse, SyncRequest, SyncResponse,
};
pub use sasl::{GetSaslRequest, SetSaslResponse};
pub use session::{ClientInfo, CloseSessionRequest, PingRequest, WhoAmIRequest, WhoAmIResponse};
pub use watches::{AddWatchRequest, CheckWatchesRequest, RemoveWatchesRequest};
