"""Logger config, as the Rust logger reads it (components/logger/src/policy.rs): `min_level` =
info | warn | critical, `source` = the name stamped on records. A bad value falls back to the
default and yields one warning naming the key."""

DEFAULT_SOURCE = "neon"
LEVELS = {"info": 0, "warn": 1, "warning": 1, "critical": 2}


def from_config(pairs: list[tuple[str, str]]) -> tuple[int, str, list[str]]:
    """(minimum level rank, source, warnings)."""
    min_rank, source, warnings = 0, DEFAULT_SOURCE, []
    for key, value in pairs:
        if key == "min_level":
            rank = LEVELS.get(value.strip().lower())
            if rank is None:
                warnings.append(
                    f'logger config: invalid min_level "{value}" (expected info, warn or critical); using info'
                )
            else:
                min_rank = rank
        elif key == "source":
            name = value.strip()
            if name:
                source = name
            else:
                warnings.append(
                    f'logger config: invalid source "{value}" (empty); using "{DEFAULT_SOURCE}"'
                )
    return min_rank, source, warnings
