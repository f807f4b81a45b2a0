//! NATS JWTs (version 2, as nats-server 2.x reads them) and the creds files clients load: the
//! little of the format an operator-mode server needs to trust Neon's accounts and users.
//!
//! A JWT is `base64url(header).base64url(claims).base64url(signature)`, the signature an
//! ed25519 signature by the issuer's nkey over the first two parts. The server checks the
//! signature and the chain (user issued by an account the operator issued), not `jti`; `jti`
//! is the hash of the claims anyway, as NATS's own tools make it, so a token names itself.

use anyhow::{Context, Result};
use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use nkeys::KeyPair;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Signs `nats` (the type-specific claims) as issued by `issuer` about `subject`.
pub fn encode(issuer: &KeyPair, subject: &str, name: &str, nats: Value) -> Result<String> {
    let header = json!({ "typ": "JWT", "alg": "ed25519-nkey" });
    let issued_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut claims = json!({
        "jti": "",
        "iat": issued_at,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let hash = Sha256::digest(serde_json::to_vec(&claims)?);
    claims["jti"] = Value::String(BASE32_NOPAD.encode(&hash));
    let signed = format!(
        "{}.{}",
        BASE64URL_NOPAD.encode(&serde_json::to_vec(&header)?),
        BASE64URL_NOPAD.encode(&serde_json::to_vec(&claims)?)
    );
    let signature = issuer
        .sign(signed.as_bytes())
        .map_err(|e| anyhow::anyhow!("signing the JWT of {name}: {e}"))?;
    Ok(format!("{signed}.{}", BASE64URL_NOPAD.encode(&signature)))
}

/// The claims part of a JWT, for tests and for reading back what a file grants.
pub fn claims(jwt: &str) -> Result<Value> {
    let part = jwt.split('.').nth(1).context("a JWT has three parts")?;
    let bytes = BASE64URL_NOPAD
        .decode(part.as_bytes())
        .context("JWT claims are not base64url")?;
    serde_json::from_slice(&bytes).context("JWT claims are not JSON")
}

/// A creds file: the user's JWT and its seed, in the layout NATS clients (async-nats, wash,
/// wadm, the nats CLI) read.
pub fn creds_file(jwt: &str, user: &KeyPair) -> Result<String> {
    let seed = user
        .seed()
        .map_err(|e| anyhow::anyhow!("a user key without a seed: {e}"))?;
    Ok(format!(
        "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\
         NKEYs are sensitive and should be treated as secrets.\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n\
         *************************************************************\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwt_carries_its_claims_and_verifies_with_the_issuers_key() {
        let account = KeyPair::new_account();
        let user = KeyPair::new_user();
        let jwt = encode(
            &account,
            &user.public_key(),
            "reader",
            json!({ "type": "user", "version": 2 }),
        )
        .unwrap();
        let claims = claims(&jwt).unwrap();
        assert_eq!(claims["iss"], account.public_key());
        assert_eq!(claims["sub"], user.public_key());
        assert_eq!(claims["nats"]["type"], "user");
        assert!(!claims["jti"].as_str().unwrap().is_empty());

        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let signature = BASE64URL_NOPAD.decode(signature.as_bytes()).unwrap();
        account.verify(signed.as_bytes(), &signature).unwrap();
        let other = KeyPair::new_account();
        assert!(other.verify(signed.as_bytes(), &signature).is_err());
    }

    #[test]
    fn a_creds_file_holds_the_jwt_and_the_seed() {
        let user = KeyPair::new_user();
        let text = creds_file("eyJ.a.b", &user).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let after = |marker: &str| {
            let at = lines.iter().position(|l| l.contains(marker)).unwrap();
            lines[at + 1]
        };
        assert_eq!(after("BEGIN NATS USER JWT"), "eyJ.a.b");
        assert_eq!(after("BEGIN USER NKEY SEED"), user.seed().unwrap());
    }
}
