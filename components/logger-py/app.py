"""The logger, in Python: the same contract and behaviour as the Rust logger
(components/logger): `cyber:system/logging` and `cyber:system/batch` exported,
`cyber:system/sink` imported; level filter, source, redaction, one warning record for a bad
config value, records held between `batch.begin` and `batch.flush`. A record the sink refuses is
reported on stderr and fails the call (a `log` call traps; `flush` returns the error), so the
caller never answers as if it had logged."""

import sys

import policy
import redact
from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import sink, store, wall_clock
from wit_world.imports.types import Level

RANK = {Level.INFO: 0, Level.WARN: 1, Level.CRITICAL: 2}


class _State:
    """Per instance, read from config on the first call."""

    def __init__(self) -> None:
        try:
            pairs = store.get_all()
            self.min_rank, self.source, warnings = policy.from_config(pairs)
        except Err as e:
            self.min_rank, self.source = 0, policy.DEFAULT_SOURCE
            warnings = [f"logger config: cannot read config ({e.value.value}); using defaults"]
        self.config_warning = "; ".join(warnings) if warnings else None
        self.held: list[sink.Entry] | None = None


_state: _State | None = None


def _get() -> _State:
    global _state
    if _state is None:
        _state = _State()
    return _state


def _now_ms() -> int:
    now = wall_clock.now()
    return now.seconds * 1000 + now.nanoseconds // 1_000_000


def _entries_for(state: _State, msg: str, lvl: Level) -> list[sink.Entry]:
    stamp = _now_ms()
    entries = []
    if state.config_warning is not None:
        entries.append(sink.Entry(Level.WARN, state.config_warning, state.source, stamp))
        state.config_warning = None
    if RANK[lvl] >= state.min_rank:
        entries.append(sink.Entry(lvl, redact.redact(msg), state.source, stamp))
    return entries


def _refusal(count: int, why: str) -> str:
    noun = "record" if count == 1 else "records"
    return f"neon logger: sink refused {count} {noun}, not written: {why}"


def _report(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Logging(exports.Logging):
    def log(self, msg: str, lvl: Level) -> None:
        state = _get()
        entries = _entries_for(state, msg, lvl)
        if state.held is not None:
            state.held.extend(entries)
            return
        if not entries:
            return
        try:
            sink.write(entries)
        except Err as e:
            message = _refusal(len(entries), e.value)
            _report(message)
            # `log` cannot return the error: failing the call is how the caller learns, and
            # the exception's line, the last on stderr, is the reason the caller is given.
            raise RuntimeError(message) from None


class Batch(exports.Batch):
    def begin(self) -> None:
        state = _get()
        if state.held is None:
            state.held = []

    def flush(self) -> None:
        state = _get()
        held, state.held = state.held or [], None
        if not held:
            return
        try:
            sink.write(held)
        except Err as e:
            message = _refusal(len(held), e.value)
            _report(message)
            raise Err(message)
