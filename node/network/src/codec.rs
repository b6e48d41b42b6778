//! The request-response wire format: an unsigned-varint length, then that many raw bytes.
//!
//! Sizes are checked against the protocol's limits as soon as the length is read, so an
//! oversized message is refused without being received.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{request_response, StreamProtocol};
use std::{fmt, io};

/// The longest unsigned varint accepted (enough for any `u64`).
const MAX_VARINT_LEN: usize = 10;

/// A message longer than its protocol allows; carried inside the `io::Error` of a failed read,
/// so that the caller can tell it from other failures.
#[derive(Debug)]
pub(crate) struct TooLarge {
    /// The announced length.
    pub(crate) len: u64,
    /// The limit.
    pub(crate) max: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message of {} bytes exceeds the limit of {} bytes", self.len, self.max)
    }
}

impl std::error::Error for TooLarge {}

/// Whether an I/O error is a [`TooLarge`] refusal.
pub(crate) fn is_too_large(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<TooLarge>())
}

/// Length-prefixed raw bytes, with one protocol's request and response limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LengthPrefixed {
    /// The largest request read.
    pub(crate) max_request: usize,
    /// The largest response read.
    pub(crate) max_response: usize,
}

impl request_response::Codec for LengthPrefixed {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, self.max_request).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, self.max_response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &response).await
    }
}

/// Reads one length-prefixed message of at most `max` bytes.
pub(crate) async fn read_message<T>(io: &mut T, max: usize) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let len = read_varint(io).await?;
    let too_large = || io::Error::new(io::ErrorKind::InvalidData, TooLarge { len, max });
    let wanted = usize::try_from(len).map_err(|_| too_large())?;
    if wanted > max {
        return Err(too_large());
    }
    // Grows with what arrives instead of trusting the announced length up front.
    let mut data = Vec::with_capacity(wanted.min(64 * 1024));
    io.take(len).read_to_end(&mut data).await?;
    if data.len() != wanted {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("message ended after {} of {wanted} bytes", data.len()),
        ));
    }
    Ok(data)
}

/// Writes one length-prefixed message.
pub(crate) async fn write_message<T>(io: &mut T, data: &[u8]) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let len = u64::try_from(data.len()).map_err(io::Error::other)?;
    io.write_all(&encode_varint(len)).await?;
    io.write_all(data).await?;
    io.flush().await
}

/// The unsigned LEB128 encoding of `value`.
pub(crate) fn encode_varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAX_VARINT_LEN);
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

/// Reads an unsigned LEB128 varint of at most [`MAX_VARINT_LEN`] bytes.
async fn read_varint<T>(io: &mut T) -> io::Result<u64>
where
    T: AsyncRead + Unpin + Send,
{
    let mut value: u64 = 0;
    for index in 0..MAX_VARINT_LEN {
        let mut byte = [0u8; 1];
        io.read_exact(&mut byte).await?;
        let [byte] = byte;
        let shift = u32::try_from(index).unwrap_or(u32::MAX).saturating_mul(7);
        let bits = u64::from(byte & 0x7f);
        let shifted = bits.checked_shl(shift).filter(|s| s.checked_shr(shift) == Some(bits));
        let Some(shifted) = shifted else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "length prefix overflows"));
        };
        value |= shifted;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(io::Error::new(io::ErrorKind::InvalidData, "length prefix too long"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::executor::block_on;

    fn framed(data: &[u8]) -> Vec<u8> {
        let mut out = encode_varint(data.len() as u64);
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn round_trip() {
        for len in [0usize, 1, 127, 128, 300, 70_000] {
            let data = vec![7u8; len];
            let mut wire = Vec::new();
            block_on(write_message(&mut futures::io::Cursor::new(&mut wire), &data)).unwrap();
            assert_eq!(wire, framed(&data));
            let read = block_on(read_message(&mut wire.as_slice(), 100_000)).unwrap();
            assert_eq!(read, data);
        }
    }

    #[test]
    fn oversized_is_refused_from_the_prefix() {
        // Only the prefix is present: the refusal must not wait for the body.
        let wire = encode_varint(1_000_001);
        let err = block_on(read_message(&mut wire.as_slice(), 1_000_000)).unwrap_err();
        assert!(is_too_large(&err), "{err}");
        let wire = encode_varint(u64::MAX);
        let err = block_on(read_message(&mut wire.as_slice(), 1_000_000)).unwrap_err();
        assert!(is_too_large(&err), "{err}");
    }

    #[test]
    fn truncated_and_malformed() {
        let mut wire = framed(&[1, 2, 3]);
        wire.pop();
        let err = block_on(read_message(&mut wire.as_slice(), 10)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let wire = [0xffu8; 11];
        let err = block_on(read_message(&mut wire.as_slice(), 10)).unwrap_err();
        assert!(!is_too_large(&err));
        let empty: [u8; 0] = [];
        assert!(block_on(read_message(&mut empty.as_slice(), 10)).is_err());
    }
}
