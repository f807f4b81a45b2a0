//! Property tests of the redaction: whatever surrounds a secret, it does not survive, and no
//! input makes the logger panic (a panic would trap the component and fail the request).

use alloc::format;
use alloc::string::String;

use proptest::prelude::*;

use crate::redact::{redact, MASK};

/// Text that cannot itself hold a secret or a digit, to put around one.
fn filler() -> impl Strategy<Value = String> {
    "[a-z .,;&]{0,30}"
}

/// A key of the rule in any letter case.
fn secret_key() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["password", "secret", "token"]),
        any::<u64>(),
    )
        .prop_map(|(key, case_bits)| {
            key.chars()
                .enumerate()
                .map(|(i, c)| {
                    if case_bits >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_is_redacted_without_panic_and_once_is_enough(text in any::<String>()) {
        let once = redact(&text);
        prop_assert_eq!(redact(&once), once);
    }

    #[test]
    fn a_secret_key_value_never_survives(
        before in filler(),
        key in secret_key(),
        separator in prop::sample::select(vec!["=", ":", " = ", ": ", "="]),
        secret in "Q[A-Z0-9]{5,24}",
        after in filler(),
    ) {
        let message = format!("{before} {key}{separator}{secret} {after}");
        let redacted = redact(&message);
        prop_assert!(!redacted.contains(&secret), "{} -> {}", message, redacted);
        prop_assert!(redacted.contains(MASK));
    }

    #[test]
    fn a_bearer_token_never_survives(
        before in filler(),
        scheme in prop::sample::select(vec!["Bearer", "bearer", "BEARER"]),
        token in "Q[A-Za-z0-9._~+/-]{7,40}",
        after in filler(),
    ) {
        let message = format!("{before} {scheme} {token} {after}");
        let redacted = redact(&message);
        prop_assert!(!redacted.contains(&token), "{} -> {}", message, redacted);
    }

    #[test]
    fn a_card_like_number_never_survives(
        before in filler(),
        digits in prop::collection::vec(0u8..10, 13..=19),
        separators in prop::collection::vec(prop::sample::select(vec!["", "", " ", "-"]), 19),
        after in filler(),
    ) {
        let mut number = String::new();
        for (i, digit) in digits.iter().enumerate() {
            if i > 0 {
                number.push_str(separators[i]);
            }
            number.push(char::from(b'0' + digit));
        }
        let message = format!("{before} {number} {after}");
        let redacted = redact(&message);
        prop_assert!(!redacted.bytes().any(|b| b.is_ascii_digit()), "{} -> {}", message, redacted);
    }

    #[test]
    fn text_without_a_secret_is_left_alone(text in "[a-zA-Z0-9 ,.:=]{0,80}") {
        let lower = text.to_ascii_lowercase();
        prop_assume!(!["bearer", "password", "secret", "token"].iter().any(|k| lower.contains(k)));
        // No run of 13 or more digits (with or without single separators) either.
        let digits_in_a_row = text
            .split(|c: char| !c.is_ascii_digit() && c != ' ' && c != '-')
            .map(|run| run.bytes().filter(u8::is_ascii_digit).count())
            .max()
            .unwrap_or(0);
        prop_assume!(digits_in_a_row < 13);
        prop_assert_eq!(redact(&text), text);
    }
}
