# Sourced by every script in scripts/: finds a Python >= 3.14.2, or provides one.
#
# Home Assistant 2026.3 and later need Python >= 3.14.2. A `python3.14` on PATH that
# is new enough is used as it is (a developer's laptop). Otherwise, where the script
# runs as root with apt-get (CI, these machines), a Debian forky root with
# python3.14 is built once with debootstrap outside the work tree and reused; the
# script then re-runs itself inside it (chroot), the project bound at the same path.
#
# The binds live in a private mount namespace (unshare -m) that ends with the
# command, so no bind into the host outlives a script; even so, nothing here
# removes the root while anything is mounted inside it (see remove_python_root).

PBX_HUB_PYTHON_MIN="3.14.2"
PBX_HUB_ROOT="${PBX_HUB_ROOT:-/var/cache/pbx-hub/forky}"
PBX_HUB_DEBIAN_MIRROR="${PBX_HUB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Debian packages inside the root: the interpreter, headers and a compiler for the few
# Home Assistant dependencies without cp314 wheels. Chromium for tests_browser/ comes
# later, only where the browser tests run (ensure_chromium).
PBX_HUB_ROOT_PACKAGES="python3.14,python3.14-venv,python3.14-dev,ca-certificates,g++"
# What tests_browser/ drives inside the root: Debian's Chromium, and one font so that
# pages and screenshots have legible text (no recommends: no desktop in a chroot).
PBX_HUB_CHROMIUM_PACKAGES="chromium fonts-liberation"

# Prints the path of a python3.14 on PATH that is at least PBX_HUB_PYTHON_MIN.
host_python() {
  local candidate
  candidate="$(command -v python3.14 2>/dev/null)" || return 1
  "$candidate" -c "import sys; sys.exit(sys.version_info < (3, 14, 2))" 2>/dev/null || return 1
  echo "$candidate"
}

# True when nothing is mounted at or below the root (its own /proc, /dev, project).
root_is_unmounted() {
  local root="$1"
  ! awk -v root="$root" '$2 == root || index($2, root "/") == 1 {found=1} END {exit !found}' /proc/self/mounts
}

# Removes a (half-built) root, refusing while anything is mounted inside it: an
# `rm -rf` through a live bind of /dev or the project would delete the host's files.
remove_python_root() {
  local root="$1"
  [ -e "$root" ] || return 0
  if ! root_is_unmounted "$root" || mountpoint -q "$root/dev" || mountpoint -q "$root/proc"; then
    echo "scripts: $root still has mounts inside it; run 'umount -R $root/...' first. Not removing it." >&2
    return 1
  fi
  rm -rf --one-file-system "$root"
}

# Builds the forky root once (about a minute); a root is ready when it has the stamp.
ensure_python_root() {
  local root="$PBX_HUB_ROOT"
  [ -f "$root/.pbx-hub-ready" ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts: Python >= $PBX_HUB_PYTHON_MIN is needed (Home Assistant 2026.3 and later)." >&2
    echo "Install python3.14 (>= $PBX_HUB_PYTHON_MIN) on PATH, or run as root on Debian/Ubuntu" >&2
    echo "so that scripts/setup can build a Debian forky root with it." >&2
    return 1
  fi
  command -v debootstrap >/dev/null 2>&1 || {
    echo "scripts: installing debootstrap" >&2
    { apt-get install -y -qq debootstrap || { apt-get update -qq && apt-get install -y -qq debootstrap; }; } >/dev/null
  }
  local building="$root.building"
  remove_python_root "$building"
  mkdir -p "$(dirname "$root")"
  echo "scripts: building a Debian forky root with Python 3.14 in $root (once, about a minute)" >&2
  # forky's own script is not in bookworm's debootstrap; sid's fits it.
  debootstrap --variant=minbase --include="$PBX_HUB_ROOT_PACKAGES" \
    forky "$building" "$PBX_HUB_DEBIAN_MIRROR" /usr/share/debootstrap/scripts/sid >"$building.log" 2>&1 || {
    echo "scripts: debootstrap failed; see $building.log" >&2
    return 1
  }
  # forky's Release file can be past its Valid-Until date.
  echo 'Acquire::Check-Valid-Until "false";' >"$building/etc/apt/apt.conf.d/99pbx-hub"
  # A stamp names no host: the root can be copied to another machine of the same kind.
  remove_python_root "$root"
  mv "$building" "$root"
  touch "$root/.pbx-hub-ready"
}

# Copies a host file into the root when it differs, atomically: other scripts may be
# reading the old copy inside the root at that moment (a half-written CA bundle
# fails their TLS set-up).
sync_into_root() {
  local source="$1" target="$2"
  [ -r "$source" ] || return 0
  cmp -s "$source" "$target" 2>/dev/null && return 0
  cp "$source" "$target.pbx-hub.$$" 2>/dev/null && mv -f "$target.pbx-hub.$$" "$target" || rm -f "$target.pbx-hub.$$"
}

# Runs a command inside the root, from the current directory, with the project's
# parent bound at the same path (the shared docs live beside the project).
in_python_root() {
  local root="$PBX_HUB_ROOT" here parent
  here="$(pwd -P)"
  parent="$(dirname "$here")"
  # What the host knows of names and certificates (a proxy's CA, say) holds inside too.
  local file
  for file in /etc/resolv.conf /etc/hosts /etc/ssl/certs/ca-certificates.crt; do
    sync_into_root "$file" "$root$file"
  done
  mkdir -p "$root$parent"
  PBX_HUB_IN_ROOT=1 exec unshare --mount --propagation private -- /bin/sh -c '
    set -e
    root="$1"; parent="$2"; here="$3"; shift 3
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys" 2>/dev/null || true
    mount --bind "$parent" "$root$parent"
    exec chroot "$root" /usr/bin/env -u PIP_FIND_LINKS -C "$here" \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"
  ' pbx-hub-root "$root" "$parent" "$here" "$@"
}

# Installs Debian packages into the root once: a stamp per package list in the root's
# /var/lib/pbx-hub. Runs inside the root (PBX_HUB_IN_ROOT), as root. apt-get runs under
# a lock in the root, so that two scripts (two work trees) never run apt in it at once;
# the second waits, then finds the stamp. Returns non-zero when they cannot be installed.
ensure_root_packages() {
  local stamp_dir=/var/lib/pbx-hub stamp
  [ -n "${PBX_HUB_IN_ROOT:-}" ] || { echo "scripts: ensure_root_packages runs inside the root" >&2; return 1; }
  stamp="$stamp_dir/packages-$(printf '%s\n' "$@" | sort | tr '\n' '_' | tr -c 'A-Za-z0-9_.+-' '_')"
  [ -f "$stamp" ] && return 0
  mkdir -p "$stamp_dir"
  (
    flock -w 1800 9 || { echo "scripts: another apt-get in the root held its lock for 30 minutes" >&2; exit 1; }
    [ -f "$stamp" ] && exit 0
    echo "scripts: installing $* into $PBX_HUB_ROOT (once)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # No daemon starts from a package's scripts inside the chroot.
    [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d; }
    # The lock above is ours; dpkg's own covers an apt-get run by hand in the root.
    { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"; } \
      >"$stamp.log" 2>&1 || {
      echo "scripts: apt-get install $* failed in the root; see $PBX_HUB_ROOT$stamp.log" >&2
      exit 1
    }
    touch "$stamp"
  ) 9>"$stamp_dir/apt.lock"
}

# Makes Debian's Chromium available where the browser tests run: inside the root it
# is installed into the root (once); with the host's own Python it is the host's
# /usr/bin/chromium, left as it is (.ci/run installs it on a CI host). Returns non-zero,
# with a message, when there is none; tests_browser/ then skips, saying so.
ensure_chromium() {
  if [ -n "${PBX_HUB_IN_ROOT:-}" ]; then
    ensure_root_packages $PBX_HUB_CHROMIUM_PACKAGES || return 1
  fi
  [ -x "${PBX_HUB_CHROMIUM:-/usr/bin/chromium}" ] || {
    echo "scripts: no Chromium at ${PBX_HUB_CHROMIUM:-/usr/bin/chromium} (Debian: apt-get install chromium)" >&2
    return 1
  }
}

# Makes the calling script run with Python >= 3.14.2: sets PBX_HUB_PYTHON when the
# host has one, or re-runs the script inside the forky root. Call it first thing:
#   use_python314 "$0" "$@"
use_python314() {
  local script="$1"; shift
  if [ -n "${PBX_HUB_IN_ROOT:-}" ]; then
    PBX_HUB_PYTHON="$(host_python)" || {
      echo "scripts: no Python >= $PBX_HUB_PYTHON_MIN inside $PBX_HUB_ROOT" >&2
      return 1
    }
    export PBX_HUB_PYTHON
    return 0
  fi
  if PBX_HUB_PYTHON="$(host_python)"; then
    export PBX_HUB_PYTHON
    return 0
  fi
  ensure_python_root || exit 1
  in_python_root bash "$script" "$@"
}
