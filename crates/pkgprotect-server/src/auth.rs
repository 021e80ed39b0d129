//! Tokens: generated from the OS's randomness, shown once, stored only as SHA-256.

use sha2::{Digest, Sha256};

/// The SHA-256 of a token, in hex: what the database stores and looks up. Lookup by an
/// unpredictable hash leaks nothing usable through timing, so no secret is ever compared
/// byte by byte against attacker input.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A fresh token with GitLab's prefixes (`glpat-` personal, `gldt-` deploy) and 160 random bits.
pub fn new_token(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn tokens_are_random_and_prefixed() {
        let (a, b) = (new_token("glpat-").unwrap(), new_token("glpat-").unwrap());
        assert!(a.starts_with("glpat-") && a.len() == 46);
        assert_ne!(a, b);
    }
}
