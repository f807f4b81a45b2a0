//! Masks secrets in a log message before it leaves the component.
//!
//! Hand-written scanners instead of a regex engine: a regex crate would triple the size of the
//! component, and the three rules are simple enough to state directly.

use alloc::string::String;

/// What replaces a secret value.
pub const MASK: &str = "[REDACTED]";

/// Keys whose `key=value` value is masked (matched case-insensitively).
const SECRET_KEYS: [&str; 3] = ["password", "secret", "token"];

/// Card-like numbers: 13 to 19 digits, optionally grouped by single spaces or dashes.
const CARD_MIN_DIGITS: usize = 13;
const CARD_MAX_DIGITS: usize = 19;

/// Applies every rule: bearer tokens, `password=`/`secret=`/`token=` values, card-like numbers.
pub fn redact(message: &str) -> String {
    let masked = mask_bearer_tokens(message);
    let masked = mask_key_values(&masked);
    mask_card_numbers(&masked)
}

/// Ends a secret value: whitespace or a separator of query strings, lists and quoted text.
fn ends_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, '&' | ',' | ';' | '"' | '\'')
}

/// Position after the value starting at `start`.
fn value_end(text: &str, start: usize) -> usize {
    text[start..]
        .find(ends_value)
        .map_or(text.len(), |offset| start + offset)
}

/// `Bearer abc.def` -> `Bearer [REDACTED]` (the scheme name is case-insensitive, as in HTTP).
fn mask_bearer_tokens(text: &str) -> String {
    const SCHEME: &str = "bearer";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find(SCHEME) {
        let at = search + found;
        let after = at + SCHEME.len();
        search = after;
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let spaces = text[after..].len() - text[after..].trim_start_matches(' ').len();
        if !starts_word || spaces == 0 {
            continue;
        }
        let token_start = after + spaces;
        let token_end = value_end(text, token_start);
        if token_end == token_start {
            continue;
        }
        out.push_str(&text[copied..token_start]);
        out.push_str(MASK);
        copied = token_end;
        search = token_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// `password=hunter2` -> `password=[REDACTED]`, also with `:` and spaces around the `=`.
fn mask_key_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut pos = 0;
    while pos < text.len() {
        let Some(key) = SECRET_KEYS.iter().find(|k| lower[pos..].starts_with(*k)) else {
            pos += text[pos..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let starts_word = text[..pos]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let mut cursor = pos + key.len();
        let rest = &text[cursor..];
        let trimmed = rest.trim_start_matches(' ');
        if !starts_word || !(trimmed.starts_with('=') || trimmed.starts_with(':')) {
            pos += key.len();
            continue;
        }
        cursor += rest.len() - trimmed.len() + 1;
        cursor += text[cursor..].len() - text[cursor..].trim_start_matches(' ').len();
        let end = value_end(text, cursor);
        if end > cursor {
            out.push_str(&text[copied..cursor]);
            out.push_str(MASK);
            copied = end;
        }
        pos = end.max(cursor);
    }
    out.push_str(&text[copied..]);
    out
}

/// Runs of 13-19 digits, possibly grouped by single spaces or dashes, become `[REDACTED]`.
/// Shorter runs (order ids, timestamps in ms) and longer ones are left alone.
fn mask_card_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let preceded_by_word = i > 0 && bytes[i - 1].is_ascii_alphanumeric();
        if !bytes[i].is_ascii_digit() || preceded_by_word {
            i += 1;
            continue;
        }
        let (end, digits) = digit_run(bytes, i);
        let followed_by_word = end < bytes.len() && bytes[end].is_ascii_alphanumeric();
        if (CARD_MIN_DIGITS..=CARD_MAX_DIGITS).contains(&digits) && !followed_by_word {
            out.push_str(&text[copied..i]);
            out.push_str(MASK);
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// From a digit at `start`: where the run ends and how many digits it holds. A single space or
/// dash between two digits continues the run; anything else ends it.
fn digit_run(bytes: &[u8], start: usize) -> (usize, usize) {
    let mut end = start;
    let mut digits = 0;
    while end < bytes.len() {
        if bytes[end].is_ascii_digit() {
            digits += 1;
            end += 1;
        } else if matches!(bytes[end], b' ' | b'-')
            && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
        {
            end += 1;
        } else {
            break;
        }
    }
    (end, digits)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn bearer_tokens_are_masked() {
        assert_eq!(
            redact("auth: Bearer eyJhbGci.payload.sig ok"),
            "auth: Bearer [REDACTED] ok"
        );
        assert_eq!(redact("bearer abc"), "bearer [REDACTED]");
        assert_eq!(redact("unbearer abc"), "unbearer abc");
        assert_eq!(redact("Bearer"), "Bearer");
    }

    #[test]
    fn secret_key_values_are_masked() {
        assert_eq!(
            redact("login user=ann password=hunter2 ok"),
            "login user=ann password=[REDACTED] ok"
        );
        assert_eq!(
            redact("?token=abc&secret=xyz&x=1"),
            "?token=[REDACTED]&secret=[REDACTED]&x=1"
        );
        assert_eq!(redact("PASSWORD: hunter2"), "PASSWORD: [REDACTED]");
        assert_eq!(redact("my_password=x"), "my_password=x");
        assert_eq!(redact("passwords are long"), "passwords are long");
    }

    #[test]
    fn card_like_numbers_are_masked() {
        assert_eq!(redact("card 4111111111111111 used"), "card [REDACTED] used");
        assert_eq!(redact("card 4111-1111-1111-1111"), "card [REDACTED]");
        assert_eq!(redact("card 4111 1111 1111 1111."), "card [REDACTED].");
        assert_eq!(redact("13 digits 1234567890123"), "13 digits [REDACTED]");
    }

    #[test]
    fn ordinary_numbers_are_kept() {
        assert_eq!(redact("order 123456789012"), "order 123456789012");
        assert_eq!(
            redact("twenty 12345678901234567890"),
            "twenty 12345678901234567890"
        );
        assert_eq!(redact("id abc4111111111111111"), "id abc4111111111111111");
        assert_eq!(redact("3 items, 12 boxes"), "3 items, 12 boxes");
    }

    #[test]
    fn unicode_text_survives() {
        assert_eq!(redact("héllo wörld ✓"), "héllo wörld ✓");
        assert_eq!(redact("ключ token=секрет"), "ключ token=[REDACTED]");
    }
}
