//! DIGEST-MD5 (RFC 2831), the client side, as ZooKeeper's servers run it: no initial
//! response, one challenge answered with a response for `qop=auth` (authentication only, no
//! integrity or privacy layer), then the server's `rspauth`, which the client checks, so the
//! server proves it knows the password too.
//!
//! Pure code: tokens in, tokens out. Everything the server sends is parsed defensively: a
//! challenge that does not follow the RFC is a [`DigestMd5Error`], never a panic.
//!
//! What is hashed, with `H` MD5 and `HEX` lowercase hex (RFC 2831 2.1.2.1):
//! ```text
//! A1       = H(username ":" realm ":" password) ":" nonce ":" cnonce
//! A2       = "AUTHENTICATE:" digest-uri            (the server's rspauth: ":" digest-uri)
//! response = HEX(H(HEX(H(A1)) ":" nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2))))
//! ```
//! The username, realm and password are hashed in ISO 8859-1 when every character of the
//! value fits it, and in UTF-8 otherwise (the latter only when the server offered
//! `charset=utf-8`), as RFC 2831 says and Java's implementation does.

use std::fmt::Write as _;

use md5::{Digest, Md5};

/// Why the exchange could not go on (the server's token was not what the RFC allows, or
/// the server could not prove it knows the password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DigestMd5Error {
    /// The token is not a list of `name=value` directives.
    #[error("malformed DIGEST-MD5 token: {0}")]
    Syntax(&'static str),
    /// A directive that must appear once appears more than once.
    #[error("the DIGEST-MD5 challenge repeats `{0}`")]
    Duplicate(&'static str),
    /// A directive the challenge must have is missing.
    #[error("the DIGEST-MD5 challenge has no `{0}`")]
    Missing(&'static str),
    /// The challenge asks for something this client does not do.
    #[error("unsupported DIGEST-MD5 challenge: {0}")]
    Unsupported(&'static str),
    /// A username or password that ISO 8859-1 cannot hold, for a server without UTF-8.
    #[error("the username or password needs UTF-8, which the server did not offer")]
    NeedsUtf8,
    /// The server's `rspauth` does not match: it does not know the password.
    #[error("the server's rspauth does not prove it knows the password")]
    BadRspauth,
    /// A token arrived after the exchange was over.
    #[error("a DIGEST-MD5 token after the exchange was complete")]
    AfterCompletion,
}

/// One login: the credentials and where the exchange stands.
pub(crate) struct DigestMd5Client {
    username: String,
    password: String,
    /// `service/host`, e.g. `zookeeper/zk-sasl-md5`.
    digest_uri: String,
    step: Step,
}

enum Step {
    /// The challenge is awaited.
    Challenge,
    /// The response is sent; the server's rspauth must equal this.
    Rspauth(String),
    /// The server proved itself.
    Done,
}

/// What a challenge says, as far as a client for `qop=auth` needs it.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    /// The realms offered; the first is used (Java's default), none means an empty realm.
    realms: Vec<Vec<u8>>,
    nonce: Vec<u8>,
    utf8: bool,
}

impl DigestMd5Client {
    /// A login as `username` for the service `service` on `host` (the digest-uri is
    /// `service/host`).
    pub(crate) fn new(username: &str, password: &str, service: &str, host: &str) -> Self {
        DigestMd5Client {
            username: username.to_owned(),
            password: password.to_owned(),
            digest_uri: format!("{service}/{host}"),
            step: Step::Challenge,
        }
    }

    /// Whether the server has proved itself and the login is complete.
    pub(crate) fn is_complete(&self) -> bool {
        matches!(self.step, Step::Done)
    }

    /// Takes the server's next token: the challenge gets the response to send (with a fresh
    /// client nonce), the rspauth gets `None`, and the login is complete.
    pub(crate) fn step(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, DigestMd5Error> {
        match self.step {
            Step::Challenge => {
                let mut raw = [0u8; 16];
                rand::Rng::fill(&mut rand::rng(), &mut raw);
                let cnonce = hex(&raw);
                let (response, rspauth) = self.respond(token, &cnonce)?;
                self.step = Step::Rspauth(rspauth);
                Ok(Some(response))
            }
            Step::Rspauth(ref expected) => {
                let got = parse_rspauth(token)?;
                // Both sides are lowercase hex of public length; a timing difference would
                // tell nothing the attacker who sent the token does not already know.
                if !got.eq_ignore_ascii_case(expected.as_bytes()) {
                    return Err(DigestMd5Error::BadRspauth);
                }
                self.step = Step::Done;
                Ok(None)
            }
            Step::Done => Err(DigestMd5Error::AfterCompletion),
        }
    }

    /// The response to `challenge` with client nonce `cnonce`, and the rspauth the server
    /// must answer with.
    fn respond(&self, challenge: &[u8], cnonce: &str) -> Result<(Vec<u8>, String), DigestMd5Error> {
        let challenge = parse_challenge(challenge)?;
        let realm = challenge.realms.first().cloned().unwrap_or_default();
        let nc = "00000001";
        let qop = "auth";
        let user_realm_password = {
            let mut h = Md5::new();
            h.update(hashed_form(self.username.as_bytes(), challenge.utf8)?);
            h.update(b":");
            h.update(hashed_form(&realm, challenge.utf8)?);
            h.update(b":");
            h.update(hashed_form(self.password.as_bytes(), challenge.utf8)?);
            h.finalize()
        };
        let ha1 = {
            let mut h = Md5::new();
            h.update(user_realm_password);
            h.update(b":");
            h.update(&challenge.nonce);
            h.update(b":");
            h.update(cnonce.as_bytes());
            hex(&h.finalize())
        };
        let digest = |a2_prefix: &str| {
            let ha2 = hex(&Md5::digest(format!("{a2_prefix}:{}", self.digest_uri)));
            let mut h = Md5::new();
            h.update(ha1.as_bytes());
            h.update(b":");
            h.update(&challenge.nonce);
            h.update(format!(":{nc}:{cnonce}:{qop}:{ha2}"));
            hex(&h.finalize())
        };
        let response = digest("AUTHENTICATE");
        let rspauth = digest("");

        let mut out = Vec::with_capacity(256);
        if challenge.utf8 {
            out.extend_from_slice(b"charset=utf-8,");
        }
        out.extend_from_slice(b"username=");
        // Sent as the server will hash it: in UTF-8 only when offered.
        let username = if challenge.utf8 {
            self.username.as_bytes().to_vec()
        } else {
            to_latin1(self.username.as_bytes()).ok_or(DigestMd5Error::NeedsUtf8)?
        };
        quoted(&mut out, &username);
        if !challenge.realms.is_empty() {
            out.extend_from_slice(b",realm=");
            quoted(&mut out, &realm);
        }
        out.extend_from_slice(b",nonce=");
        quoted(&mut out, &challenge.nonce);
        out.extend_from_slice(format!(",nc={nc},cnonce=").as_bytes());
        quoted(&mut out, cnonce.as_bytes());
        out.extend_from_slice(b",digest-uri=");
        quoted(&mut out, self.digest_uri.as_bytes());
        out.extend_from_slice(format!(",maxbuf=65536,response={response},qop={qop}").as_bytes());
        Ok((out, rspauth))
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `value` (UTF-8) in ISO 8859-1, if every character fits.
fn to_latin1(value: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(value).ok()?;
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// A value as it is hashed: ISO 8859-1 when it fits, else UTF-8 (only if offered). A
/// realm that is not UTF-8 came from the server in ISO 8859-1 and is hashed as it came.
fn hashed_form(value: &[u8], utf8: bool) -> Result<Vec<u8>, DigestMd5Error> {
    if std::str::from_utf8(value).is_err() {
        return Ok(value.to_vec());
    }
    match to_latin1(value) {
        Some(latin1) => Ok(latin1),
        None if utf8 => Ok(value.to_vec()),
        None => Err(DigestMd5Error::NeedsUtf8),
    }
}

/// Appends `value` as a quoted-string, escaping `"` and `\`.
fn quoted(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'"');
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// One `name=value` directive: the name as sent, the value unquoted.
type Directive<'a> = (&'a [u8], Vec<u8>);

/// Splits a token into its `name=value` directives (RFC 2831 `1#` lists: commas, optional
/// white space, empty elements allowed; values are tokens or quoted-strings).
fn directives(token: &[u8]) -> Result<Vec<Directive<'_>>, DigestMd5Error> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut out = Vec::new();
    let mut rest = token;
    loop {
        while let Some((&b, tail)) = rest.split_first() {
            if is_space(b) || b == b',' {
                rest = tail;
            } else {
                break;
            }
        }
        if rest.is_empty() {
            return Ok(out);
        }
        let name_len = rest
            .iter()
            .position(|&b| b == b'=' || is_space(b) || b == b',')
            .unwrap_or(rest.len());
        let (name, tail) = rest.split_at(name_len);
        if name.is_empty() {
            return Err(DigestMd5Error::Syntax("a directive without a name"));
        }
        let tail = trim_start(tail, is_space);
        let Some(tail) = tail.strip_prefix(b"=") else {
            return Err(DigestMd5Error::Syntax("a directive without a value"));
        };
        let tail = trim_start(tail, is_space);
        let (value, tail) = if let Some(mut quoted) = tail.strip_prefix(b"\"") {
            let mut value = Vec::new();
            loop {
                match quoted.split_first() {
                    None => return Err(DigestMd5Error::Syntax("an unterminated quoted value")),
                    Some((b'"', after)) => break (value, after),
                    Some((b'\\', after)) => match after.split_first() {
                        Some((&escaped, after)) => {
                            value.push(escaped);
                            quoted = after;
                        }
                        None => {
                            return Err(DigestMd5Error::Syntax("an unterminated quoted value"));
                        }
                    },
                    Some((&b, after)) => {
                        value.push(b);
                        quoted = after;
                    }
                }
            }
        } else {
            let len = tail
                .iter()
                .position(|&b| b == b',' || is_space(b))
                .unwrap_or(tail.len());
            if len == 0 {
                return Err(DigestMd5Error::Syntax("an empty value"));
            }
            (tail[..len].to_vec(), &tail[len..])
        };
        out.push((name, value));
        rest = trim_start(tail, is_space);
        match rest.split_first() {
            None => return Ok(out),
            Some((b',', _)) => {}
            Some(_) => return Err(DigestMd5Error::Syntax("directives not separated by commas")),
        }
    }
}

fn trim_start(mut s: &[u8], is_space: impl Fn(u8) -> bool) -> &[u8] {
    while let Some((&b, tail)) = s.split_first() {
        if !is_space(b) {
            break;
        }
        s = tail;
    }
    s
}

/// Reads a challenge (RFC 2831 2.1.1) and checks that it allows `qop=auth` with MD5-sess.
fn parse_challenge(token: &[u8]) -> Result<Challenge, DigestMd5Error> {
    if token.is_empty() {
        return Err(DigestMd5Error::Syntax("an empty challenge"));
    }
    // RFC 2831: a challenge is at most 2048 bytes.
    if token.len() > 2048 {
        return Err(DigestMd5Error::Syntax("a challenge longer than 2048 bytes"));
    }
    let mut realms = Vec::new();
    let mut nonce = None;
    let mut qop: Option<Vec<u8>> = None;
    let mut charset = None;
    let mut algorithm = None;
    let once = |slot: &mut Option<Vec<u8>>, value: Vec<u8>, name: &'static str| {
        if slot.replace(value).is_some() {
            return Err(DigestMd5Error::Duplicate(name));
        }
        Ok(())
    };
    for (name, value) in directives(token)? {
        match name.to_ascii_lowercase().as_slice() {
            b"realm" => realms.push(value),
            b"nonce" => once(&mut nonce, value, "nonce")?,
            b"qop" => once(&mut qop, value, "qop")?,
            b"charset" => once(&mut charset, value, "charset")?,
            b"algorithm" => once(&mut algorithm, value, "algorithm")?,
            // stale, maxbuf, cipher and unknown directives change nothing for qop=auth.
            _ => {}
        }
    }
    let nonce = nonce.ok_or(DigestMd5Error::Missing("nonce"))?;
    if nonce.is_empty() {
        return Err(DigestMd5Error::Syntax("an empty nonce"));
    }
    match algorithm {
        Some(a) if a.eq_ignore_ascii_case(b"md5-sess") => {}
        Some(_) => {
            return Err(DigestMd5Error::Unsupported(
                "an algorithm other than md5-sess",
            ));
        }
        None => return Err(DigestMd5Error::Missing("algorithm")),
    }
    let utf8 = match charset {
        None => false,
        Some(c) if c.eq_ignore_ascii_case(b"utf-8") => true,
        Some(_) => return Err(DigestMd5Error::Unsupported("a charset other than utf-8")),
    };
    // No qop directive means "auth" (RFC 2831 2.1.1); ZooKeeper's servers send none.
    if let Some(qop) = qop {
        let offers_auth = qop
            .split(|&b| b == b',')
            .any(|q| q.trim_ascii().eq_ignore_ascii_case(b"auth"));
        if !offers_auth {
            return Err(DigestMd5Error::Unsupported(
                "a qop without auth (integrity or privacy layers only)",
            ));
        }
    }
    Ok(Challenge {
        realms,
        nonce,
        utf8,
    })
}

/// Reads the server's last token, `rspauth=<hex>` (RFC 2831 2.1.3).
fn parse_rspauth(token: &[u8]) -> Result<Vec<u8>, DigestMd5Error> {
    let mut rspauth = None;
    for (name, value) in directives(token)? {
        if name.eq_ignore_ascii_case(b"rspauth") && rspauth.replace(value).is_some() {
            return Err(DigestMd5Error::Duplicate("rspauth"));
        }
    }
    rspauth.ok_or(DigestMd5Error::Missing("rspauth"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2831 section 4, the IMAP example (password "secret").
    const IMAP_CHALLENGE: &[u8] =
        b"realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",\
        algorithm=md5-sess,charset=utf-8";

    fn imap_client() -> DigestMd5Client {
        DigestMd5Client::new("chris", "secret", "imap", "elwood.innosoft.com")
    }

    fn field(token: &[u8], name: &str) -> Vec<u8> {
        directives(token)
            .expect("a well-formed token")
            .into_iter()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn the_rfc_2831_imap_example_gives_its_published_response_and_rspauth() {
        let (response, rspauth) = imap_client()
            .respond(IMAP_CHALLENGE, "OA6MHXh6VqTrRk")
            .expect("a response");
        assert_eq!(
            field(&response, "response"),
            b"d388dad90d4bbd760a152321f2143af7"
        );
        assert_eq!(rspauth, "ea40f60335c427b5527b84dbabcdfffd");
        assert_eq!(field(&response, "username"), b"chris");
        assert_eq!(field(&response, "realm"), b"elwood.innosoft.com");
        assert_eq!(field(&response, "nonce"), b"OA6MG9tEQGm2hh");
        assert_eq!(field(&response, "nc"), b"00000001");
        assert_eq!(field(&response, "cnonce"), b"OA6MHXh6VqTrRk");
        assert_eq!(field(&response, "digest-uri"), b"imap/elwood.innosoft.com");
        assert_eq!(field(&response, "qop"), b"auth");
        assert_eq!(field(&response, "charset"), b"utf-8");
    }

    #[test]
    fn the_rfc_2831_acap_example_gives_its_published_response_and_rspauth() {
        // RFC 2831 section 4, the second example. Its challenge as printed has no charset,
        // and its response hashes the same either way (all of it is ASCII).
        let challenge = b"realm=\"elwood.innosoft.com\",nonce=\"OA9BSXrbuRhWay\",qop=\"auth\",\
            algorithm=md5-sess,charset=utf-8";
        let (response, rspauth) =
            DigestMd5Client::new("chris", "secret", "acap", "elwood.innosoft.com")
                .respond(challenge, "OA9BSuZWMSpW8m")
                .expect("a response");
        assert_eq!(
            field(&response, "response"),
            b"6084c6db3fede7352c551284490fd0fc"
        );
        assert_eq!(rspauth, "2f0b3d7c3c2e486600ef710726aa2eae");
    }

    #[test]
    fn a_whole_login_checks_the_servers_rspauth_and_then_refuses_more_tokens() {
        let mut client = imap_client();
        let response = client
            .step(IMAP_CHALLENGE)
            .expect("a response")
            .expect("something to send");
        assert!(!client.is_complete());
        let cnonce = field(&response, "cnonce");
        assert_eq!(cnonce.len(), 32, "16 random bytes in hex");
        let (_, rspauth) = imap_client()
            .respond(IMAP_CHALLENGE, std::str::from_utf8(&cnonce).expect("hex"))
            .expect("the same response");
        assert_eq!(
            client.step(format!("rspauth={rspauth}").as_bytes()),
            Ok(None)
        );
        assert!(client.is_complete());
        assert_eq!(
            client.step(b"rspauth=00"),
            Err(DigestMd5Error::AfterCompletion)
        );
    }

    #[test]
    fn a_server_that_does_not_know_the_password_is_caught_by_its_rspauth() {
        let mut client = imap_client();
        client.step(IMAP_CHALLENGE).expect("a response");
        assert_eq!(
            client.step(b"rspauth=ea40f60335c427b5527b84dbabcdfffd"),
            Err(DigestMd5Error::BadRspauth),
            "another cnonce's rspauth"
        );
        let mut client = imap_client();
        client.step(IMAP_CHALLENGE).expect("a response");
        assert_eq!(client.step(b""), Err(DigestMd5Error::Missing("rspauth")));
    }

    #[test]
    fn a_challenge_as_zookeeper_sends_it_is_answered_for_zookeeper_zk_sasl_md5() {
        // What a 3.8 server sent in zk-testing's test: no qop directive.
        let challenge =
            b"realm=\"zk-sasl-md5\",nonce=\"SJagFwNJyDF2gMqUoCPxR7iqu3DV0X0I+DK/UlN2\",\
            charset=utf-8,algorithm=md5-sess";
        let (response, _) = DigestMd5Client::new("alice", "pw", "zookeeper", "zk-sasl-md5")
            .respond(challenge, "abc")
            .expect("a response");
        assert_eq!(field(&response, "digest-uri"), b"zookeeper/zk-sasl-md5");
        assert_eq!(field(&response, "realm"), b"zk-sasl-md5");
        assert_eq!(field(&response, "qop"), b"auth");
    }

    #[test]
    fn quoted_values_are_escaped_and_unescaped() {
        let mut client = DigestMd5Client::new("a\"b\\c", "pw", "s", "h");
        let response = client
            .step(b"nonce=\"n\\\"1\", algorithm = md5-sess ,, realm=\"r\"")
            .expect("a response")
            .expect("something to send");
        assert_eq!(field(&response, "username"), b"a\"b\\c");
        assert_eq!(field(&response, "nonce"), b"n\"1");
    }

    #[test]
    fn non_latin1_credentials_need_a_server_that_offers_utf8() {
        let no_utf8 = b"nonce=\"n\",algorithm=md5-sess";
        assert!(
            DigestMd5Client::new("jos\u{e9}", "pw", "s", "h")
                .respond(no_utf8, "c")
                .is_ok(),
            "é fits ISO 8859-1"
        );
        assert_eq!(
            DigestMd5Client::new("\u{263a}", "pw", "s", "h")
                .respond(no_utf8, "c")
                .map(|_| ()),
            Err(DigestMd5Error::NeedsUtf8)
        );
        let utf8 = b"nonce=\"n\",algorithm=md5-sess,charset=utf-8";
        assert!(
            DigestMd5Client::new("u", "\u{263a}", "s", "h")
                .respond(utf8, "c")
                .is_ok()
        );
    }

    #[test]
    fn malformed_challenges_are_typed_errors() {
        use DigestMd5Error::*;
        let cases: &[(&[u8], DigestMd5Error)] = &[
            (b"", Syntax("an empty challenge")),
            (b"algorithm=md5-sess", Missing("nonce")),
            (b"nonce=\"n\"", Missing("algorithm")),
            (
                b"nonce=\"n\",nonce=\"m\",algorithm=md5-sess",
                Duplicate("nonce"),
            ),
            (
                b"nonce=\"n\",algorithm=md5",
                Unsupported("an algorithm other than md5-sess"),
            ),
            (
                b"nonce=\"n\",algorithm=md5-sess,qop=\"auth-conf\"",
                Unsupported("a qop without auth (integrity or privacy layers only)"),
            ),
            (
                b"nonce=\"n\",algorithm=md5-sess,charset=latin1",
                Unsupported("a charset other than utf-8"),
            ),
            (
                b"nonce=\"unterminated,algorithm=md5-sess",
                Syntax("an unterminated quoted value"),
            ),
            (b"nonce=\"n\\", Syntax("an unterminated quoted value")),
            (b"nonce", Syntax("a directive without a value")),
            (b"=x", Syntax("a directive without a name")),
            (b"nonce=", Syntax("an empty value")),
            (b"nonce=\"\",algorithm=md5-sess", Syntax("an empty nonce")),
            (
                b"nonce=\"n\" algorithm=md5-sess",
                Syntax("directives not separated by commas"),
            ),
        ];
        for (challenge, expected) in cases {
            let got = imap_client().respond(challenge, "c").map(|_| ());
            assert_eq!(
                got.as_ref(),
                Err(expected),
                "{:?}",
                String::from_utf8_lossy(challenge)
            );
        }
        let long = [b'a'; 3000];
        assert!(imap_client().respond(&long, "c").is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small deterministic fuzz: every prefix and every one-byte corruption of a good
        // challenge parses or fails, and nothing in between panics.
        let good = IMAP_CHALLENGE;
        for end in 0..=good.len() {
            let _ = imap_client().respond(&good[..end], "c");
            let _ = parse_rspauth(&good[..end]);
        }
        for at in 0..good.len() {
            for b in [0u8, b'"', b'\\', b',', b'=', b' ', 0xff] {
                let mut bad = good.to_vec();
                bad[at] = b;
                let _ = imap_client().respond(&bad, "c");
            }
        }
    }
}
