"""Masks secrets in a log message before it leaves the component: the same three rules, with
the same edges, as the Rust logger's (components/logger/src/redact.rs)."""

MASK = "[REDACTED]"
SECRET_KEYS = ("password", "secret", "token")
CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19


def redact(message: str) -> str:
    return mask_card_numbers(mask_key_values(mask_bearer_tokens(message)))


def _ends_value(c: str) -> bool:
    return c.isspace() or c in "&,;\"'"


def _value_end(text: str, start: int) -> int:
    for i in range(start, len(text)):
        if _ends_value(text[i]):
            return i
    return len(text)


def _ascii_lower(text: str) -> str:
    # Lowercases ASCII letters only, so positions in the result match positions in `text`.
    return "".join(c.lower() if c.isascii() else c for c in text)


def mask_bearer_tokens(text: str) -> str:
    scheme = "bearer"
    lower = _ascii_lower(text)
    out, copied, search = [], 0, 0
    while (at := lower.find(scheme, search)) != -1:
        after = at + len(scheme)
        search = after
        starts_word = at == 0 or not text[at - 1].isalnum()
        spaces = len(text[after:]) - len(text[after:].lstrip(" "))
        if not starts_word or spaces == 0:
            continue
        token_start = after + spaces
        token_end = _value_end(text, token_start)
        if token_end == token_start:
            continue
        out.append(text[copied:token_start])
        out.append(MASK)
        copied = token_end
        search = token_end
    out.append(text[copied:])
    return "".join(out)


def mask_key_values(text: str) -> str:
    lower = _ascii_lower(text)
    out, copied, pos = [], 0, 0
    while pos < len(text):
        key = next((k for k in SECRET_KEYS if lower.startswith(k, pos)), None)
        if key is None:
            pos += 1
            continue
        starts_word = pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] == "_")
        cursor = pos + len(key)
        rest = text[cursor:]
        trimmed = rest.lstrip(" ")
        if not starts_word or not (trimmed.startswith("=") or trimmed.startswith(":")):
            pos += len(key)
            continue
        cursor += len(rest) - len(trimmed) + 1
        cursor += len(text[cursor:]) - len(text[cursor:].lstrip(" "))
        end = _value_end(text, cursor)
        if end > cursor:
            out.append(text[copied:cursor])
            out.append(MASK)
            copied = end
        pos = max(end, cursor)
    out.append(text[copied:])
    return "".join(out)


def _is_ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _is_ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def mask_card_numbers(text: str) -> str:
    out, copied, i = [], 0, 0
    while i < len(text):
        preceded_by_word = i > 0 and _is_ascii_alnum(text[i - 1])
        if not _is_ascii_digit(text[i]) or preceded_by_word:
            i += 1
            continue
        end, digits = _digit_run(text, i)
        followed_by_word = end < len(text) and _is_ascii_alnum(text[end])
        if CARD_MIN_DIGITS <= digits <= CARD_MAX_DIGITS and not followed_by_word:
            out.append(text[copied:i])
            out.append(MASK)
            copied = end
        i = end
    out.append(text[copied:])
    return "".join(out)


def _digit_run(text: str, start: int) -> tuple[int, int]:
    """From a digit at `start`: where the run ends and how many digits it holds. A single space
    or dash between two digits continues the run; anything else ends it."""
    end, digits = start, 0
    while end < len(text):
        if _is_ascii_digit(text[end]):
            digits += 1
            end += 1
        elif text[end] in " -" and end + 1 < len(text) and _is_ascii_digit(text[end + 1]):
            end += 1
        else:
            break
    return end, digits
