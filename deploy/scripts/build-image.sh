#!/usr/bin/env bash
# Build the just-ingredients image without a Docker engine (buildah), then prove it works:
# `just-ingredients scan` on a bundled sample photo inside the image must find ingredients.
#
#   deploy/scripts/build-image.sh [--tag NAME] [--base IMAGE] [--debootstrap] [--no-check]
#
#   --tag NAME       image name (default localhost/just-ingredients:dev)
#   --base IMAGE     BASE_IMAGE build arg (default: python:3.11-slim-bookworm if it can be
#                    pulled, else a local Debian bookworm base made with debootstrap)
#   --debootstrap    skip the registry and use the debootstrap base directly
#   --no-check       skip the scan check
#
# Needs root (apt-get installs buildah/debootstrap when missing). Storage driver: vfs unless
# STORAGE_DRIVER is set (overlay on overlay does not work in most CI containers).
# Prints the image size and the build time at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

TAG=localhost/just-ingredients:dev
BASE=""
FORCE_DEBOOTSTRAP=0
CHECK=1
REGISTRY_BASE=docker.io/library/python:3.11-slim-bookworm
LOCAL_BASE=localhost/ji-base:bookworm-py311
SAMPLE=samples/photos/crepes_fr.jpg
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --debootstrap) FORCE_DEBOOTSTRAP=1; shift ;;
    --no-check) CHECK=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "build-image: $*" >&2; }
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
export BUILDAH_ISOLATION=chroot

need() {  # need COMMAND PACKAGE: apt-get install PACKAGE when COMMAND is missing
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "$1 is missing: install the Debian package $2"; exit 1
  fi
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }
}
need buildah buildah

start=$(date +%s)

make_debootstrap_base() {
  if buildah inspect --type image "$LOCAL_BASE" >/dev/null 2>&1; then
    log "reusing local base $LOCAL_BASE"; return 0
  fi
  need debootstrap debootstrap
  local root
  root=$(mktemp -d /tmp/ji-rootfs.XXXXXX)
  log "debootstrap bookworm (minbase + python3) into $root"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" "$DEBIAN_MIRROR" >/tmp/ji-debootstrap.log 2>&1 \
    || { tail -20 /tmp/ji-debootstrap.log >&2; exit 1; }
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  local version
  version=$(chroot "$root" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [ "$version" = 3.11 ] || { log "debootstrap python is $version, need 3.11"; exit 1; }
  local ctr mnt
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  cp -a "$root"/. "$mnt"/
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd /bin/bash "$ctr"
  buildah commit --quiet "$ctr" "$LOCAL_BASE" >/dev/null
  buildah rm "$ctr" >/dev/null
  rm -rf "$root"
  log "local base $LOCAL_BASE (Debian bookworm, python $version)"
}

if [ -z "$BASE" ]; then
  if [ "$FORCE_DEBOOTSTRAP" = 0 ] && timeout 90 buildah pull --quiet "$REGISTRY_BASE" >/dev/null 2>&1; then
    BASE=$REGISTRY_BASE
  else
    [ "$FORCE_DEBOOTSTRAP" = 1 ] || log "cannot pull $REGISTRY_BASE: using a debootstrap base"
    make_debootstrap_base
    BASE=$LOCAL_BASE
  fi
fi

# A TLS-intercepting egress proxy (as on some CI and sandbox machines) has its own CA: lend
# the host's CA bundle, plus pip and uv settings that use it, to the RUN steps only (bind
# mounts: nothing of it stays in the image). BUILD_CA_BUNDLE= (empty) turns this off.
mounts=()
BUILD_CA_BUNDLE=${BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
if [ -n "$BUILD_CA_BUNDLE" ] && [ -f "$BUILD_CA_BUNDLE" ]; then
  conf=$(mktemp -d /tmp/ji-buildconf.XXXXXX)
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$conf/pip.conf"
  printf 'native-tls = true\n' >"$conf/uv.toml"
  mounts=(-v "$BUILD_CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro"
          -v "$conf/pip.conf:/etc/pip.conf:ro" -v "$conf/uv.toml:/etc/uv/uv.toml:ro")
fi

log "building $TAG from BASE_IMAGE=$BASE"
buildah bud --isolation chroot --format docker --layers "${mounts[@]}" \
  --build-arg "BASE_IMAGE=$BASE" -f deploy/Dockerfile -t "$TAG" .
built=$(date +%s)

if [ "$CHECK" = 1 ]; then
  log "checking: just-ingredients scan $SAMPLE inside the image"
  ctr=$(buildah from "$TAG")
  trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
  buildah copy --chown 10001:10001 "$ctr" "$SAMPLE" /tmp/sample.jpg >/dev/null
  output=$(buildah run "$ctr" -- just-ingredients scan --json --no-cache /tmp/sample.jpg)
  echo "$output" | python3 -c '
import json, sys
result = json.loads(sys.stdin.read().strip().splitlines()[-1])
names = [i["name"] for i in result.get("ingredients", [])]
if not names:
    sys.exit("build-image: FAILED: no ingredient found in the sample inside the image")
print("build-image: scan inside the image found %d ingredients: %s" % (len(names), ", ".join(names)))
'
fi

size=$(buildah images --format '{{.Size}}' "$TAG" | head -n 1)
echo "image: $TAG"
echo "base: $BASE"
echo "size: $size"
echo "build time: $((built - start)) s (total with check: $(( $(date +%s) - start )) s)"
