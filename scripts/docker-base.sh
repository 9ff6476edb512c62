#!/usr/bin/env bash
# Make the container image's base locally, where no registry of images is reachable: a minimal
# Debian 12 root made by debootstrap from Debian's packages, imported with `docker import`.
# Prints the image's tag on stdout (progress goes to stderr); build with it:
#   docker build --build-arg BASE_IMAGE="$(bash scripts/docker-base.sh)" -t kenkogo-master .
# The tag names a hash of this recipe (this script and the CA certificates it copies), so a second
# run finds the image, or the root kept under ~/.cache/kenkogo, and does nothing slow.
# Needs root (debootstrap, chroot); DOCKER names the docker command (default: docker).
set -euo pipefail

suite=bookworm
# Python with venv (Debian's python refuses system-wide pip), Node.js for Node apps, tini as
# PID 1 to pass signals on and reap orphans.
packages=python3,python3-venv,ca-certificates,nodejs,tini
# npm as the npm registry ships it, one self-contained package in /opt/npm, fetched by this
# machine's npm: Debian's npm drags in some 300 packages (~300 MB) and takes minutes. Without npm
# here, the image's build stage fetches it with Debian's npm instead.
npm_version=10.9.9
docker=${DOCKER:-docker}
cache=${KENKOGO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kenkogo}

# Certificate authorities added to this machine (a TLS-inspecting proxy's, say): pip and npm
# inside the build reach their registries only when the base trusts them too.
local_cas=()
for ca in /usr/local/share/ca-certificates/*.crt; do
  [ -f "$ca" ] && local_cas+=("$ca")
done

hash=$(cat "$0" "${local_cas[@]}" | sha256sum | cut -c1-16)
tag="kenkogo-base:$hash"
if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi

mkdir -p "$cache"
tarball="$cache/base-$hash.tar"
if [ ! -s "$tarball" ]; then
  if ! command -v debootstrap >/dev/null; then
    echo "docker-base: installing debootstrap" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
  fi
  work=$(mktemp -d "$cache/base-work.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  root="$work/root"
  echo "docker-base: debootstrap $suite (about a minute)" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
  }
  if command -v npm >/dev/null; then
    npm install --global --prefix "$root/opt/npm" --no-audit --no-fund --loglevel=error \
      "npm@$npm_version" >&2
  fi
  if [ ${#local_cas[@]} -gt 0 ]; then
    cp "${local_cas[@]}" "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
  fi
  # What an image does not need: package lists and downloads, documentation, the translations
  # of the system's own tools (~30 MB; the Master and apps bring their own).
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
    "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/var/log/* "$root"/tmp/*
  # Docker writes these per container.
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  tar --numeric-owner --xattrs -C "$root" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  # Roots of older recipes are never used again.
  find "$cache" -maxdepth 1 -name 'base-*.tar' ! -name "base-$hash.tar" -delete
fi

"$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  "$tarball" "$tag" >&2
echo "$tag"
