//! The Bittensor 10.x axon/dendrite wire format: header names, [`TerminalInfo`], the
//! `computed_body_hash`, and the sr25519 request and response signatures.
//!
//! A request is `POST http://{ip}:{port}/{SynapseName}` with a JSON body and the `bt_header_*`
//! headers. The dendrite signs `"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}"`
//! (sr25519, context `b"substrate"`, `0x`-hex) where `body_hash` is
//! `sha3_256_hex(concat(sha3_256_hex(str(field)) for field in required_hash_fields))`.
//!
//! Unlike the Python axon, ours also signs its responses (see [`response_message`]), sent in
//! `bt_header_axon_signature`; Python dendrites ignore that header.

use crate::{AxonError, Result};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};
use sp_core::{crypto::AccountId32, sr25519, Pair};
use subtensor_wallet::Keypair;

/// Header carrying the synapse name.
pub const HEADER_NAME: &str = "name";
/// Header carrying the dendrite's timeout in seconds (a float, e.g. `12.0`).
pub const HEADER_TIMEOUT: &str = "timeout";
/// Header carrying Python's meaningless `sys.getsizeof` of the headers; any integer.
pub const HEADER_HEADER_SIZE: &str = "header_size";
/// Header carrying Python's meaningless total size; any integer.
pub const HEADER_TOTAL_SIZE: &str = "total_size";
/// Header carrying the body hash over the synapse's required hash fields.
pub const HEADER_BODY_HASH: &str = "computed_body_hash";
/// Prefix of the axon's [`TerminalInfo`] headers.
pub const AXON_PREFIX: &str = "bt_header_axon_";
/// Prefix of the dendrite's [`TerminalInfo`] headers.
pub const DENDRITE_PREFIX: &str = "bt_header_dendrite_";

/// The protocol version we announce: bittensor 10.2.0 as `major*1e6 + minor*1e3 + patch`.
pub const VERSION: u64 = 10_002_000;

/// Prefix of the axon's response signature message, so it can never be taken for a request
/// signature by the same key.
pub const RESPONSE_TAG: &str = "bt_response";

/// One side of a query (`synapse.axon` or `synapse.dendrite` in Python). Every field is
/// optional; absent fields are neither sent as headers nor required.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminalInfo {
    /// HTTP-like status (200 success, 401 verification failure, …).
    pub status_code: Option<u16>,
    /// Human-readable status.
    pub status_message: Option<String>,
    /// Seconds the axon spent on the request.
    pub process_time: Option<f64>,
    /// IP address of the terminal.
    pub ip: Option<String>,
    /// Port of the terminal.
    pub port: Option<u16>,
    /// Protocol version (`major*1e6 + minor*1e3 + patch`).
    pub version: Option<u64>,
    /// Unix time in nanoseconds, unique per request.
    pub nonce: Option<u64>,
    /// Stable id of the sending Dendrite / Axon object.
    pub uuid: Option<String>,
    /// SS58 hotkey.
    pub hotkey: Option<String>,
    /// `0x`-hex sr25519 signature.
    pub signature: Option<String>,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| AxonError::BadHeader {
            name: name.to_owned(),
            reason: "not visible ASCII".to_owned(),
        }),
    }
}

fn parse_header<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match header_str(headers, name)? {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|e| AxonError::BadHeader { name: name.to_owned(), reason: e.to_string() }),
    }
}

fn put(headers: &mut HeaderMap, name: &str, value: &str) {
    // Header names here are all static lower-case tokens; values are sanitised to visible ASCII.
    let clean: String =
        value.chars().map(|c| if (' '..='~').contains(&c) { c } else { '?' }).collect();
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(clean)) {
        headers.insert(n, v);
    }
}

impl TerminalInfo {
    /// Writes the present fields as `{prefix}{field}` headers (Python `str()` rendering).
    pub fn write_headers(&self, prefix: &str, headers: &mut HeaderMap) {
        let mut field = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                put(headers, &format!("{prefix}{name}"), &v);
            }
        };
        field("status_code", self.status_code.map(|v| v.to_string()));
        field("status_message", self.status_message.clone());
        field("process_time", self.process_time.map(python_float));
        field("ip", self.ip.clone());
        field("port", self.port.map(|v| v.to_string()));
        field("version", self.version.map(|v| v.to_string()));
        field("nonce", self.nonce.map(|v| v.to_string()));
        field("uuid", self.uuid.clone());
        field("hotkey", self.hotkey.clone());
        field("signature", self.signature.clone());
    }

    /// Reads the `{prefix}{field}` headers; a present but malformed one is an error.
    pub fn from_headers(prefix: &str, headers: &HeaderMap) -> Result<Self> {
        let n = |f: &str| format!("{prefix}{f}");
        let s = |f: &str| -> Result<Option<String>> {
            Ok(header_str(headers, &n(f))?.map(str::to_owned))
        };
        Ok(Self {
            status_code: parse_header(headers, &n("status_code"))?,
            status_message: s("status_message")?,
            process_time: parse_header(headers, &n("process_time"))?,
            ip: s("ip")?,
            port: parse_header(headers, &n("port"))?,
            version: parse_header(headers, &n("version"))?,
            nonce: parse_header(headers, &n("nonce"))?,
            uuid: s("uuid")?,
            hotkey: s("hotkey")?,
            signature: s("signature")?,
        })
    }
}

/// Reads the `timeout` header (seconds, a positive finite float), if present.
pub fn read_timeout(headers: &HeaderMap) -> Result<Option<f64>> {
    let t: Option<f64> = parse_header(headers, HEADER_TIMEOUT)?;
    match t {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(AxonError::BadHeader {
            name: HEADER_TIMEOUT.to_owned(),
            reason: "must be a positive finite number of seconds".to_owned(),
        }),
        other => Ok(other),
    }
}

/// Reads the `computed_body_hash` header (64 lower-case hex chars), if present.
pub fn read_body_hash(headers: &HeaderMap) -> Result<Option<String>> {
    match header_str(headers, HEADER_BODY_HASH)? {
        None => Ok(None),
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        Some(_) => Err(AxonError::BadHeader {
            name: HEADER_BODY_HASH.to_owned(),
            reason: "expected 64 hex characters".to_owned(),
        }),
    }
}

/// Writes the non-terminal headers: `name`, `timeout`, sizes and `computed_body_hash`.
pub fn write_common_headers(headers: &mut HeaderMap, name: &str, timeout: f64, body_hash: &str) {
    put(headers, HEADER_NAME, name);
    put(headers, HEADER_TIMEOUT, &python_float(timeout));
    put(headers, HEADER_HEADER_SIZE, "0");
    put(headers, HEADER_TOTAL_SIZE, "0");
    put(headers, HEADER_BODY_HASH, body_hash);
}

/// Prefix of the vestigial per-field headers a Python axon needs for required fields.
pub const INPUT_OBJ_PREFIX: &str = "bt_header_input_obj_";

/// Writes `bt_header_input_obj_{field}: base64(json)` for each `(field, json)` (see
/// [`crate::Synapse::REQUIRED_INPUT_DEFAULTS`]).
pub fn write_input_obj_headers(headers: &mut HeaderMap, fields: &[(&str, &str)]) {
    use base64::Engine as _;
    for (field, json) in fields {
        let value = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
        put(headers, &format!("{INPUT_OBJ_PREFIX}{field}"), &value);
    }
}

/// Python `str()` of a float: shortest round-trip digits, always with a `.` or exponent
/// (`3.0`, `0.5`, `1e-05`).
pub fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".to_owned() } else { "-inf".to_owned() };
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Python: 1e-05, 1.5e+16.
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.unsigned_abs());
    }
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Lower-case hex SHA3-256 of `data`.
pub fn sha3_hex(data: &[u8]) -> String {
    hex::encode(Sha3_256::digest(data))
}

/// The body hash from the Python `str()` renderings of the required hash fields, in order:
/// `sha3(concat(sha3(field_i)))`. With no fields this is the constant `sha3("")`.
pub fn body_hash_of<I, S>(field_reprs: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut concat = String::new();
    for f in field_reprs {
        concat.push_str(&sha3_hex(f.as_ref().as_bytes()));
    }
    sha3_hex(concat.as_bytes())
}

/// The dendrite's signed message: `"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}"`.
pub fn request_message(
    nonce: u64,
    dendrite_hotkey: &str,
    axon_hotkey: &str,
    uuid: &str,
    body_hash: &str,
) -> String {
    format!("{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}")
}

/// The axon's signed response message (our extension; Python sends no response signature):
/// `"bt_response.{dendrite_nonce}.{dendrite_hotkey}.{axon_hotkey}.{dendrite_uuid}.{status}.{body_hash}"`.
/// It binds the response to the request's nonce, so an old response cannot be replayed.
pub fn response_message(
    dendrite_nonce: u64,
    dendrite_hotkey: &str,
    axon_hotkey: &str,
    dendrite_uuid: &str,
    status: u16,
    body_hash: &str,
) -> String {
    format!(
        "{RESPONSE_TAG}.{dendrite_nonce}.{dendrite_hotkey}.{axon_hotkey}.{dendrite_uuid}.{status}.{body_hash}"
    )
}

/// Signs `message` with the keypair: `0x` + 128 hex characters.
pub fn sign(keypair: &Keypair, message: &str) -> String {
    let sig = keypair.pair().sign(message.as_bytes());
    format!("0x{}", hex::encode(sig.0))
}

/// Parses an SS58 address into an account id.
pub fn parse_hotkey(ss58: &str) -> Result<AccountId32> {
    subtensor_wallet::parse_account(ss58).map_err(|e| AxonError::Key(e.to_string()))
}

/// Verifies a `0x`-hex sr25519 signature over `message` by `signer`. Like bittensor-wallet it
/// also accepts a signature over `<Bytes>{message}</Bytes>` (polkadot-js `signRaw`).
pub fn verify(signer: &AccountId32, message: &str, signature: &str) -> Result<()> {
    let hex_part = signature.strip_prefix("0x").unwrap_or(signature);
    let bytes = hex::decode(hex_part).map_err(|_| AxonError::BadSignature)?;
    let raw: [u8; 64] = bytes.try_into().map_err(|_| AxonError::BadSignature)?;
    let sig = sr25519::Signature::from_raw(raw);
    let public = sr25519::Public::from_raw(*<AccountId32 as AsRef<[u8; 32]>>::as_ref(signer));
    if sr25519::Pair::verify(&sig, message.as_bytes(), &public)
        || sr25519::Pair::verify(&sig, format!("<Bytes>{message}</Bytes>").as_bytes(), &public)
    {
        Ok(())
    } else {
        Err(AxonError::BadSignature)
    }
}

/// Unix time in nanoseconds (Python `time.time_ns()`).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hash_is_sha3_of_empty_string() {
        assert_eq!(
            body_hash_of(Vec::<String>::new()),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
    }

    #[test]
    fn hash_matches_reference_construction() {
        let expected =
            sha3_hex(format!("{}{}", sha3_hex(b"7"), sha3_hex(b"[0.5, 1.0]")).as_bytes());
        assert_eq!(body_hash_of(["7", "[0.5, 1.0]"]), expected);
    }

    #[test]
    fn python_float_rendering() {
        assert_eq!(python_float(3.0), "3.0");
        assert_eq!(python_float(0.5), "0.5");
        assert_eq!(python_float(12.0), "12.0");
        assert_eq!(python_float(1e-5), "1e-05");
        assert_eq!(python_float(0.1), "0.1");
    }

    #[test]
    fn sign_and_verify() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap();
        let msg = request_message(1, &alice.ss58(), &bob.ss58(), "u", &body_hash_of([""; 0]));
        let sig = sign(&alice, &msg);
        assert_eq!(sig.len(), 130);
        verify(&alice.account_id(), &msg, &sig).unwrap();
        assert!(verify(&bob.account_id(), &msg, &sig).is_err());
        assert!(verify(&alice.account_id(), "other", &sig).is_err());
        assert!(verify(&alice.account_id(), &msg, "0xzz").is_err());
    }

    #[test]
    fn terminal_info_header_round_trip() {
        let t = TerminalInfo {
            status_code: Some(200),
            ip: Some("::1".into()),
            port: Some(8091),
            nonce: Some(17),
            hotkey: Some("5Grw".into()),
            process_time: Some(0.25),
            ..Default::default()
        };
        let mut h = HeaderMap::new();
        t.write_headers(AXON_PREFIX, &mut h);
        assert_eq!(TerminalInfo::from_headers(AXON_PREFIX, &h).unwrap(), t);
        h.insert("bt_header_axon_port", HeaderValue::from_static("nope"));
        assert!(TerminalInfo::from_headers(AXON_PREFIX, &h).is_err());
    }
}
