//! The decision: the wasmCloud 1.x policy protocol (version `v1`) and Neon's one rule, code
//! runs only when it is signed by one of Neon's issuers and its signature has not expired.
//!
//! A host sends a request for each component or provider it is asked to start and, before the
//! first invocation of each function of a component, for that invocation; it caches every
//! answer (per component, image and function), so an invocation costs one question per host.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The providers built into the host (`wasmcloud+builtin://<name>`; the host sends the name
/// alone as the image). They are part of the host binary, not code it loads, and carry no
/// claims. A bare OCI reference spelled like one of these names would pass as well, if it came
/// unsigned: Neon's manifests use no OCI references.
const BUILTIN_PROVIDERS: [&str; 3] = ["http-server", "http-client", "messaging-nats"];

/// What the host asks (fields the decision needs; the host sends more).
#[derive(Debug, Deserialize)]
pub struct Request {
    #[serde(rename = "requestId")]
    pub request_id: String,
    pub kind: String,
    pub version: String,
    pub request: Value,
}

/// What the host reads back.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Response {
    #[serde(rename = "requestId")]
    pub request_id: String,
    pub permitted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The code a request is about.
struct Subject<'a> {
    /// componentId or providerId.
    id: &'a str,
    image: &'a str,
    claims: Option<&'a Value>,
}

impl<'a> Subject<'a> {
    fn of(request: &'a Request) -> Option<Self> {
        let body = match request.kind.as_str() {
            "startComponent" | "startProvider" => &request.request,
            "performInvocation" => request.request.get("target")?,
            _ => return None,
        };
        let id = body
            .get("componentId")
            .or_else(|| body.get("providerId"))?
            .as_str()?;
        Some(Self {
            id,
            image: body.get("imageRef")?.as_str()?,
            claims: body.get("claims").filter(|c| !c.is_null()),
        })
    }
}

/// What a request is about, for the log: `startComponent neon-logger`, `performInvocation
/// neon-logger cyber:system/logging.log`.
pub fn label(request: &Request) -> String {
    let id = Subject::of(request).map_or("?", |s| s.id);
    let call = match (
        request.request.get("interface").and_then(Value::as_str),
        request.request.get("function").and_then(Value::as_str),
    ) {
        (Some(interface), Some(function)) => format!(" {interface}.{function}"),
        _ => String::new(),
    };
    format!("{} {id}{call}", request.kind)
}

/// The answer to `request`, given the issuers (account public keys) whose code may run.
pub fn decide(request: &Request, issuers: &[String]) -> Response {
    let verdict = judge(request, issuers);
    Response {
        request_id: request.request_id.clone(),
        permitted: verdict.is_ok(),
        message: verdict.err(),
    }
}

fn judge(request: &Request, issuers: &[String]) -> Result<(), String> {
    if request.version != "v1" {
        return Err(format!(
            "policy request version {} is not understood (v1 is)",
            request.version
        ));
    }
    let Some(subject) = Subject::of(request) else {
        return Err(format!(
            "{} requests are not permitted (or are malformed)",
            request.kind
        ));
    };
    if request.kind == "startProvider"
        && subject.claims.is_none()
        && BUILTIN_PROVIDERS.contains(&subject.image)
    {
        return Ok(());
    }
    let what = format!("{} ({})", subject.id, subject.image);
    let Some(claims) = subject.claims else {
        return Err(format!(
            "{what} is not signed; only code signed by Neon's issuer runs here"
        ));
    };
    let issuer = claims.get("issuer").and_then(Value::as_str).unwrap_or("");
    if !issuers.iter().any(|allowed| allowed == issuer) {
        return Err(format!(
            "{what} is signed by {issuer}, which is not Neon's issuer ({})",
            issuers.join(", ")
        ));
    }
    if claims.get("expired").and_then(Value::as_bool) == Some(true) {
        return Err(format!("{what}: its signature has expired"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NEON: &str = "ANEONISSUER";

    fn request(kind: &str, body: Value) -> Request {
        serde_json::from_value(json!({
            "requestId": "r1", "kind": kind, "version": "v1", "request": body,
            "host": { "publicKey": "N...", "lattice": "default", "labels": {} }
        }))
        .unwrap()
    }

    fn component(image: &str, claims: Value) -> Value {
        json!({ "componentId": "neon-logger", "imageRef": image, "maxInstances": 1,
                "annotations": {}, "claims": claims })
    }

    fn signed_by(issuer: &str, expired: bool) -> Value {
        json!({ "publicKey": "MXYZ", "issuer": issuer, "issuedAt": "1", "expiresAt": null,
                "expired": expired })
    }

    fn permitted(kind: &str, body: Value) -> bool {
        let response = decide(&request(kind, body), &[NEON.to_string()]);
        assert_eq!(response.request_id, "r1");
        assert_eq!(response.permitted, response.message.is_none());
        response.permitted
    }

    #[test]
    fn code_signed_by_neons_issuer_runs() {
        let body = component("file:///b/logger.wasm", signed_by(NEON, false));
        assert!(permitted("startComponent", body.clone()));
        assert!(permitted(
            "performInvocation",
            json!({ "interface": "cyber:system/logging", "function": "log", "target": body })
        ));
        let provider = json!({ "providerId": "neon-logging", "imageRef": "file:///b/p.par.gz",
                               "annotations": {}, "claims": signed_by(NEON, false) });
        assert!(permitted("startProvider", provider));
    }

    #[test]
    fn the_log_names_what_was_asked() {
        let body = component("file:///b/logger.wasm", signed_by(NEON, false));
        let invocation = json!({ "interface": "cyber:system/logging", "function": "log",
                                 "target": body.clone() });
        assert_eq!(
            label(&request("performInvocation", invocation)),
            "performInvocation neon-logger cyber:system/logging.log"
        );
        assert_eq!(
            label(&request("startComponent", body)),
            "startComponent neon-logger"
        );
    }

    #[test]
    fn unsigned_foreign_and_expired_code_is_refused_and_told_why() {
        for (claims, why) in [
            (Value::Null, "not signed"),
            (signed_by("AOTHER", false), "signed by AOTHER"),
            (signed_by(NEON, true), "expired"),
        ] {
            let response = decide(
                &request("startComponent", component("file:///x.wasm", claims)),
                &[NEON.to_string()],
            );
            assert!(!response.permitted);
            let message = response.message.unwrap();
            assert!(
                message.contains(why) && message.contains("neon-logger"),
                "{message}"
            );
        }
    }

    #[test]
    fn the_hosts_builtin_providers_run_and_unknown_requests_do_not() {
        let builtin = json!({ "providerId": "http", "imageRef": "http-server",
                              "annotations": {}, "claims": null });
        assert!(permitted("startProvider", builtin.clone()));
        // As a component it is no builtin.
        assert!(!permitted("startComponent", builtin));
        assert!(!permitted("somethingNew", json!({})));
        let mut old = request(
            "startComponent",
            component("file:///x", signed_by(NEON, false)),
        );
        old.version = "v2".into();
        assert!(!decide(&old, &[NEON.to_string()]).permitted);
    }
}
