//! Client tokens for the create calls that take one (EC2 `ClientToken`, FSx
//! `ClientRequestToken`). AWS keeps a token for hours after its first use and refuses it when a
//! later request with it differs (`IdempotentParameterMismatch`, `IncompatibleParameterError`),
//! so a token names one request in one lifetime of the stack: derived from the stack, the
//! logical resource, the request's parameters and a lifetime nonce kept in the state file.
//! A retry of the same request (an `up` run again after a kill) sends the same token and AWS
//! answers with what it made the first time; a new lifetime (after `down`) or a changed request
//! sends a new one.

/// A fresh lifetime nonce: 16 hex digits.
pub fn new_lifetime() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// The token for one request: `pipectl-` and 40 hex digits (48 characters; EC2 takes 64, FSx
/// 63 of `[A-Za-z0-9_.-]`).
pub fn client_token(
    account: &str,
    stack: &str,
    logical: &str,
    lifetime: &str,
    request: &str,
) -> String {
    let mut data = Vec::new();
    for part in [account, stack, logical, lifetime, request] {
        data.extend_from_slice(part.as_bytes());
        data.push(0);
    }
    format!("pipectl-{}", crate::digest::hex_sha256(data, 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_request_same_lifetime_same_token() {
        let a = client_token("1", "s", "nat", "l1", "subnet-1");
        assert_eq!(a, client_token("1", "s", "nat", "l1", "subnet-1"));
        assert!(
            a.len() <= 63 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{a}"
        );
    }

    #[test]
    fn a_new_lifetime_or_a_changed_request_gets_a_new_token() {
        let a = client_token("1", "s", "nat", "l1", "subnet-1");
        assert_ne!(a, client_token("1", "s", "nat", "l2", "subnet-1"));
        assert_ne!(a, client_token("1", "s", "nat", "l1", "subnet-2"));
        assert_ne!(a, client_token("1", "s", "nat-2", "l1", "subnet-1"));
        assert_ne!(a, client_token("2", "s", "nat", "l1", "subnet-1"));
        // parts cannot run into each other
        assert_ne!(
            client_token("1", "ab", "c", "l", "r"),
            client_token("1", "a", "bc", "l", "r")
        );
    }

    #[test]
    fn lifetimes_differ() {
        assert_ne!(new_lifetime(), new_lifetime());
        assert_eq!(new_lifetime().len(), 16);
    }
}
