//! Short hex digests (SHA-256) that name what a request or a document says: client tokens,
//! job-definition and policy digests kept in tags, so that a change is seen.

use sha2::{Digest, Sha256};

/// The first `bytes` bytes of the SHA-256 of `data`, as lower-case hex.
pub(crate) fn hex_sha256(data: impl AsRef<[u8]>, bytes: usize) -> String {
    Sha256::digest(data.as_ref())
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digest() {
        assert_eq!(
            super::hex_sha256("abc", 4),
            "ba7816bf",
            "SHA-256 of \"abc\" starts ba7816bf"
        );
        assert_eq!(super::hex_sha256("abc", 32).len(), 64);
    }
}
