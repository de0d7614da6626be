#!/usr/bin/env bash
# Restore one incremental file snapshot of watchkeeper.ops by hand: bash, gpg, zstd, tar, jq, coreutils.
#
# usage: restore-files-by-hand.sh MANIFEST OBJECTS_DIR TARGET_DIR
#
#   MANIFEST     the snapshot's <backup_id>.manifest.json (plain JSON)
#   OBJECTS_DIR  a directory holding the snapshot's objects under their keys: the packs listed in
#                the manifest (.files.packs[].key) and its file list (.objects[] with role
#                "filelist"), e.g. a local destination, or what `aws s3 cp` / `gcloud storage cp`
#                downloaded
#   TARGET_DIR   where to rebuild the tree (stored paths are relative, like GNU tar's)
#
# Decryption: public-key backups need the private key in GNUPGHOME; symmetric backups read the
# passphrase from the file named by PASSPHRASE_FILE. Objects without .gpg are only compressed.
set -euo pipefail

manifest=$1 objects=$2 target=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

decode() {  # decode OBJECT_PATH: decrypt (if .gpg) and decompress to stdout
    local object=$1
    if [[ $object == *.gpg ]]; then
        if [[ -n ${PASSPHRASE_FILE:-} ]]; then
            gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$PASSPHRASE_FILE" -d "$object"
        else
            gpg --batch --quiet -d "$object"
        fi
    else
        cat "$object"
    fi | zstd -d -q -c
}

# 1. Unpack every pack the snapshot needs: each is a tar of chunks named by their SHA-256.
mkdir -p "$work/blobs"
jq -r '.files.packs[].key' "$manifest" | while read -r key; do
    decode "$objects/$key" | tar -x -C "$work/blobs" -f -
done
(cd "$work/blobs" && for chunk in *; do
    [[ -e $chunk ]] || continue
    echo "$chunk  $chunk"
done | sha256sum --quiet -c -)

# 2. The file list: every path with its type, mode, mtime, SHA-256 and chunks (file list version 2 leaves
#    .chunks out when a file is one chunk, its own SHA-256: hence (.chunks // [.sha256]) below).
filelist_key=$(jq -r '.objects[] | select(.role == "filelist") | .key' "$manifest")
decode "$objects/$filelist_key" > "$work/filelist.json"

# 3. Rebuild: directories, then files (their chunks concatenated), then symlinks. Fields are
#    NUL-separated, so any path survives.
mkdir -p "$target"
jq -j '.files[] | select(.type == "dir") | .path, "\u0000"' "$work/filelist.json" | (cd "$target" && xargs -0 -r mkdir -p --)
jq -j '.files[] | select(.type == "file") | .path, "\u0000", ((.chunks // [.sha256]) | join(" ")), "\u0000", .mtime, "\u0000"' \
        "$work/filelist.json" |
    while IFS= read -r -d '' path && IFS= read -r -d '' chunks && IFS= read -r -d '' mtime; do
        out="$target/$path"
        [[ -d ${out%/*} ]] || mkdir -p "${out%/*}"
        for chunk in $chunks; do cat "$work/blobs/$chunk"; done > "$out"
        touch -m -d "$mtime" "$out"  # .mtime is exact (ns); jq 1.6 would round the number .mtime_ns
    done
jq -j '.files[] | select(.type == "symlink") | .path, "\u0000", .target, "\u0000"' "$work/filelist.json" |
    while IFS= read -r -d '' path && IFS= read -r -d '' link; do ln -sfn "$link" "$target/$path"; done

# 4. Check every file against its SHA-256, then set modes, then directory mtimes (deepest first:
#    creating entries in a directory changes its mtime).
jq -r '.files[] | select(.type == "file") | "\(.sha256)  \(.path)"' "$work/filelist.json" > "$work/SHA256SUMS"
(cd "$target" && sha256sum --quiet --strict -c "$work/SHA256SUMS")
for mode in $(jq -r '[.files[] | select(.type != "symlink") | .mode] | unique | .[]' "$work/filelist.json"); do
    jq -j --arg m "$mode" '.files[] | select(.type != "symlink" and .mode == $m) | .path, "\u0000"' "$work/filelist.json" |
        (cd "$target" && xargs -0 -r chmod "$mode" --)
done
jq -j '[.files[] | select(.type == "dir")] | reverse | .[] | .path, "\u0000", .mtime, "\u0000"' "$work/filelist.json" |
    while IFS= read -r -d '' path && IFS= read -r -d '' mtime; do touch -m -d "$mtime" "$target/$path"; done
echo "restored $(wc -l < "$work/SHA256SUMS") files into $target"
