# shellcheck shell=bash
# Patched crates.io crates. Each patches/<crate>-<version>.patch is our own small fix to that
# exact published crate; set-up fetches the crate with cargo (crates.io, checksum-verified),
# copies it to build/patched-by-setup.sh/<crate>-<version>/ and applies the patch there. The
# root Cargo.toml points `[patch.crates-io]` at those folders, so every native build (host,
# providers, tests) uses the fixed crate. Source after common.sh.

NEON_PATCHED_DIR="$NEON_BUILD/patched-by-setup.sh"

# The registry copy of <crate> <version>, fetched through a throwaway manifest: the workspace
# itself cannot resolve before its patched folders exist.
fetch_registry_crate() {
    local crate="$1" version="$2" tmp src
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/src"
    : >"$tmp/src/lib.rs"
    cat >"$tmp/Cargo.toml" <<TOML
[package]
name = "neon-fetch-crate"
version = "0.0.0"
edition = "2021"
[dependencies]
$crate = { version = "=$version", default-features = false }
TOML
    (cd "$tmp" && CARGO_TARGET_DIR="$tmp/target" cargo fetch --quiet) ||
        die "cargo could not fetch $crate $version from crates.io"
    rm -rf "$tmp"
    local registry="${CARGO_HOME:-$HOME/.cargo}/registry" archive want got
    # The exact published crate: its archive's checksum as pinned in patches/SHA256SUMS.
    archive="$(find "$registry/cache" -maxdepth 2 -type f -name "$crate-$version.crate" | head -1)"
    want="$(awk -v f="$crate-$version.crate" '$2 == f { print $1 }' "$NEON_ROOT/patches/SHA256SUMS")"
    [[ -n "$want" ]] || die "patches/SHA256SUMS has no checksum for $crate-$version.crate"
    got="$(sha256sum "$archive" 2>/dev/null | cut -d' ' -f1)"
    [[ "$got" == "$want" ]] || die "$crate-$version.crate in $registry/cache has checksum ${got:-none}, patches/SHA256SUMS pins $want"
    src="$(find "$registry/src" -maxdepth 2 -type d -name "$crate-$version" | head -1)"
    [[ -n "$src" ]] || die "$crate $version was fetched but is not under $registry/src"
    echo "$src"
}

# Every patch applied to a pristine copy; skipped when the copy was made from the same patch.
# A copy is always remade from the registry, never patched twice.
ensure_patched_crates() {
    local patch name crate version dest stamp sum src
    step "patched crates (patches/*.patch -> ${NEON_PATCHED_DIR#"$NEON_ROOT"/})"
    for patch in "$NEON_ROOT"/patches/*.patch; do
        name="$(basename "$patch" .patch)"
        crate="${name%-*}"
        version="${name##*-}"
        dest="$NEON_PATCHED_DIR/$name"
        stamp="$dest/.neon-patch-sha256"
        sum="$(sha256sum "$patch" | cut -d' ' -f1)"
        if [[ -f "$dest/Cargo.toml" && "$(cat "$stamp" 2>/dev/null)" == "$sum" ]]; then
            info "$name: applied, skipped"
            continue
        fi
        src="$(fetch_registry_crate "$crate" "$version")"
        rm -rf "$dest.tmp"
        mkdir -p "$NEON_PATCHED_DIR"
        cp -R "$src" "$dest.tmp"
        # git apply as a plain patch tool: the ceiling keeps it from finding this checkout's repo.
        (cd "$dest.tmp" && GIT_CEILING_DIRECTORIES="$NEON_PATCHED_DIR" git apply -p1 "$patch") ||
            die "patches/$name.patch does not apply to $crate $version from crates.io"
        echo "$sum" >"$dest.tmp/.neon-patch-sha256"
        rm -rf "$dest"
        mv "$dest.tmp" "$dest"
        info "$name: applied"
    done
}
