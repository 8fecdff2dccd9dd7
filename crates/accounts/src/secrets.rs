//! Passwords (argon2id) and opaque bearer tokens (stored as SHA-256 hashes).
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Cost parameters of argon2id.
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize)]
pub struct PasswordCost {
    /// Memory in KiB (OWASP: 19 MiB for argon2id with t=2).
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        PasswordCost {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

fn hasher(cost: PasswordCost) -> Argon2<'static> {
    let params =
        Params::new(cost.memory_kib, cost.iterations, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. CPU-heavy: call from `spawn_blocking`.
pub fn hash_password(password: &str, cost: PasswordCost) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher(cost)
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid params")
        .to_string()
}

/// Verifies a password against a PHC string (parameters are read from the hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fixed hash to verify against when the user does not exist, so that timing does not tell
/// whether an e-mail is registered.
pub fn dummy_hash(cost: PasswordCost) -> String {
    hash_password("not-a-real-password", cost)
}

/// Token prefix, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "ttx_";

/// A new opaque token: `ttx_` + 32 random bytes base64url.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

/// What is stored: SHA-256 of the token, hex. Tokens carry 256 bits of entropy, so a fast hash is
/// enough; the database never holds a usable token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let cost = PasswordCost {
            memory_kib: 1024,
            iterations: 1,
        };
        let h = hash_password("correct horse battery", cost);
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
