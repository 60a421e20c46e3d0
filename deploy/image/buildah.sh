#!/usr/bin/env bash
# deploy/image/buildah.sh: builds the repository's Dockerfile, unmodified,
# with buildah (daemonless, chroot isolation, no registry), then checks the
# image. `make image` runs it; go test ./deploy/ -run TestImageWithBuildah
# runs it when buildah is installed.
#
#   bash deploy/image/buildah.sh [build]  make the stand-ins if needed, build, check
#   bash deploy/image/buildah.sh rmi      remove the built image (DRIFTWATCH_IMAGE)
#
# The Dockerfile's two base images cannot be pulled here (no registry is
# reachable), so local stand-ins are made first, under the exact names the
# Dockerfile uses, from Debian bookworm packages (mmdebstrap, from the Debian
# mirror) and the host's Go toolchain:
#
#   docker.io/library/golang:<GO_VERSION>-bookworm  a minbase bookworm with
#       ca-certificates, git (go build -buildvcs reads the commit with it) and
#       netbase, the host's GOROOT as /usr/local/go (it must be go<GO_VERSION>,
#       the Dockerfile's ARG), GOPATH=/go, GOTOOLCHAIN=local, PATH as the
#       golang image sets them;
#   gcr.io/distroless/static-debian12:nonroot  what distroless static holds:
#       /etc/passwd and /etc/group with root, nobody and nonroot (65532),
#       CA certificates, tzdata, os-release, nsswitch.conf, /tmp (1777),
#       /home/nonroot; user 65532, SSL_CERT_FILE set.
#
# `go mod download` runs in the build over the network (chroot isolation
# shares the host's network; GOPROXY is Go's default). The stand-ins are made
# once and reused (a label records their recipe, the Go version and the CA
# bundle). Images live in a storage of their own (--root/--runroot under DRIFTWATCH_BUILDAH_DIR),
# never in the user's default containers storage; the working containers the
# script creates are removed on exit.
#
# The context is the repository's root, as for docker build; but from a git
# worktree, where .git is a file, go build -buildvcs stamps no commit (the
# go command recognizes only a .git directory), so the script then builds
# from a temporary context: a shallow clone of HEAD with the worktree's files
# (tracked and untracked, not ignored) copied over it, deleted ones removed.
#
# Checks, each printed as "ok ..." (or "FAIL ...", then exit 1): the image's
# user, entrypoint, command, health check, exposed port and labels are the
# Dockerfile's; the baselines directory is owned by 65532; `driftwatch
# version` runs in the image (as its user, buildah run --isolation chroot)
# and names the commit of HEAD.
#
# Knobs (environment): DRIFTWATCH_BUILDAH_DIR (storage, default
# $XDG_CACHE_HOME/driftwatch/buildah or ~/.cache/driftwatch/buildah),
# DRIFTWATCH_BUILDAH_DRIVER (storage driver, default overlay; vfs where
# overlay cannot mount), DRIFTWATCH_IMAGE (the built image's name, default
# localhost/driftwatch:buildah), DEBIAN_MIRROR (default
# http://deb.debian.org/debian), GO (the host's go, default go).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${DRIFTWATCH_BUILDAH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/driftwatch/buildah}
driver=${DRIFTWATCH_BUILDAH_DRIVER:-overlay}
image=${DRIFTWATCH_IMAGE:-localhost/driftwatch:buildah}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
go=${GO:-go}

# recipe changes when what the stand-ins are made of changes: they are
# remade when their label differs.
recipe=standin-1

log() { printf 'buildah.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

command -v buildah >/dev/null || die "buildah is not installed (Debian: apt-get install buildah)"

bh() { buildah --root "$dir/root" --runroot "$dir/run" --storage-driver "$driver" "$@"; }

containers=()
tmp=
cleanup() {
	local c
	for c in "${containers[@]}"; do
		bh rm "$c" >/dev/null 2>&1 || log "could not remove working container $c"
	done
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
# On a signal, exit so that the EXIT trap removes the containers.
trap 'exit 130' INT
trap 'exit 143' TERM

# new_container image: a working container from image (or scratch), removed
# on exit; its name in $c.
new_container() {
	c=$(bh from --pull=never --quiet "$1") || die "buildah from $1 failed"
	containers+=("$c")
}

dockerfile=$repo/Dockerfile
go_version=$(sed -n 's/^ARG GO_VERSION=//p' "$dockerfile")
[ -n "$go_version" ] || die "$dockerfile has no ARG GO_VERSION=<version>"
host_go=$("$go" env GOVERSION) || die "the host's go ($go) does not run"
[ "$host_go" = "go$go_version" ] ||
	die "the Dockerfile builds with Go $go_version but the host's go is $host_go: the golang stand-in is the host's toolchain"
goroot=$("$go" env GOROOT)
golang=docker.io/library/golang:$go_version-bookworm
distroless=gcr.io/distroless/static-debian12:nonroot
cabundle=/etc/ssl/certs/ca-certificates.crt
[ -r "$cabundle" ] || die "no CA bundle at $cabundle (Debian: ca-certificates)"
stamp="$recipe $host_go ca:$(sha256sum <"$cabundle" | cut -c1-12)"

label() { # image: the stand-in label of image, empty if it is missing
	bh inspect --type image --format '{{index .OCIv1.Config.Labels "io.driftwatch.standin"}}' "$1" 2>/dev/null || true
}

standins() {
	if [ "$(label "$golang")" = "$stamp" ] && [ "$(label "$distroless")" = "$stamp" ]; then
		log "stand-ins up to date ($stamp): $golang, $distroless"
		return
	fi
	if ! command -v mmdebstrap >/dev/null; then
		[ "$(id -u)" = 0 ] || die "mmdebstrap is not installed and installing it needs root"
		log "installing mmdebstrap with apt-get"
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null; } ||
			die "apt-get could not install mmdebstrap"
	fi
	local t0=$SECONDS rootfs=$tmp/bookworm.tar c mnt
	log "making a minbase bookworm root file system with mmdebstrap from $mirror"
	mmdebstrap --quiet --variant=minbase --include=ca-certificates,git,netbase \
		bookworm "$rootfs" "$mirror" || die "mmdebstrap bookworm from $mirror failed"

	new_container scratch
	mnt=$(bh mount "$c") || die "buildah mount $c failed"
	tar -C "$mnt" -xf "$rootfs" || die "unpack $rootfs into $c"
	cp -a "$goroot" "$mnt/usr/local/go" || die "copy $goroot into $c"
	# The host's CA bundle, not Debian's: where egress goes through a
	# TLS-inspecting proxy, its CA is in the host's bundle, and go mod
	# download needs it. Only the build stage gets it, not the image.
	cp "$cabundle" "$mnt/etc/ssl/certs/ca-certificates.crt" || die "copy $cabundle into $c"
	mkdir -p "$mnt/go/src" "$mnt/go/bin" && chmod -R 1777 "$mnt/go"
	bh umount "$c" >/dev/null
	bh config --env GOLANG_VERSION="$go_version" --env GOTOOLCHAIN=local --env GOPATH=/go \
		--env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--workingdir /go --cmd bash --label io.driftwatch.standin="$stamp" "$c"
	bh commit --quiet "$c" "$golang" >/dev/null || die "commit $golang"
	log "made $golang ($host_go from $goroot)"

	new_container scratch
	mnt=$(bh mount "$c") || die "buildah mount $c failed"
	tar -C "$mnt" -xf "$rootfs" ./etc/ssl/certs/ca-certificates.crt ./usr/share/zoneinfo \
		./usr/lib/os-release ./etc/os-release ./etc/nsswitch.conf ./etc/services ./etc/protocols ||
		die "unpack the distroless files from $rootfs into $c"
	printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
		'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$mnt/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$mnt/etc/group"
	mkdir -p "$mnt/tmp" "$mnt/root" "$mnt/home/nonroot"
	chmod 1777 "$mnt/tmp"
	chmod 700 "$mnt/root"
	chown 65532:65532 "$mnt/home/nonroot"
	bh umount "$c" >/dev/null
	bh config --user 65532 --workingdir /home/nonroot \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
		--label io.driftwatch.standin="$stamp" "$c"
	bh commit --quiet "$c" "$distroless" >/dev/null || die "commit $distroless"
	log "made $distroless"
	log "stand-ins made in $((SECONDS - t0)) s"
}

build() {
	local t0=$SECONDS ctx=$repo
	if [ -f "$repo/.git" ]; then
		ctx=$tmp/context
		log "$repo is a git worktree: building from a clone of HEAD with the worktree's files in $ctx"
		git clone --quiet --depth 1 --no-tags "file://$repo" "$ctx" || die "git clone $repo into $ctx"
		(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
			tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$ctx" -xf - ||
			die "copy the worktree's files into $ctx"
		(cd "$repo" && git ls-files -z --deleted) | (cd "$ctx" && xargs -0 -r rm -f --)
	fi
	# --format docker: an OCI image configuration has no health check, and
	# buildah drops HEALTHCHECK from it. --force-rm: no build container is
	# left behind when a step fails. No --layers: the build stage's layers
	# (module and build caches, 1.3 GB) would pile up with each new commit,
	# and only go mod download (seconds) would be saved.
	log "building $dockerfile as $image"
	bh bud --pull=never --isolation chroot --format docker --layers=false --force-rm \
		-t "$image" -f "$ctx/Dockerfile" "$ctx" >&2 || die "buildah bud $dockerfile failed"
	# The previous build's image, now untagged.
	bh rmi --prune >/dev/null || log "could not prune untagged images in $dir"
	log "built $image in $((SECONDS - t0)) s"
}

failed=0
check() { # what got want
	if [ "$2" = "$3" ]; then
		printf 'ok   %s: %s\n' "$1" "$2"
	else
		printf 'FAIL %s: %s, want %s\n' "$1" "$2" "$3"
		failed=1
	fi
}

# instr NAME: the arguments of the last NAME instruction of the Dockerfile
# (continuation lines joined, blanks squeezed).
instr() {
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile" | sed -n "s/^$1[[:space:]]\{1,\}//p" | tr -s ' \t' ' ' | tail -n 1
}

# golist: a Dockerfile's JSON array of strings (no quotes or commas inside
# them) as Go's fmt prints a []string, as buildah inspect --format does.
golist() { sed 's/^\["/[/; s/"\]$/]/; s/", "/ /g'; }

inspect() { bh inspect --type image --format "$1" "$image"; }

checks() {
	check user "$(inspect '{{.Docker.Config.User}}')" "$(instr USER)"
	check entrypoint "$(inspect '{{.Docker.Config.Entrypoint}}')" "$(instr ENTRYPOINT | golist)"
	check cmd "$(inspect '{{.Docker.Config.Cmd}}')" "$(instr CMD | golist)"
	local hc want
	hc=$(instr HEALTHCHECK)
	want=$(printf '%s' "${hc#* CMD }" | sed 's/^\[/["CMD", /' | golist)
	check "healthcheck test" "$(inspect '{{with .Docker.Config.Healthcheck}}{{.Test}}{{end}}')" "$want"
	check "healthcheck timing" \
		"$(inspect '{{with .Docker.Config.Healthcheck}}--interval={{.Interval}} --timeout={{.Timeout}} --start-period={{.StartPeriod}} --retries={{.Retries}}{{end}}')" \
		"$(printf '%s' "${hc%% CMD *}" | sed 's/=1m/=1m0s/')"
	check "exposed port" "$(inspect '{{range $p, $_ := .Docker.Config.ExposedPorts}}{{$p}} {{end}}')" "$(instr EXPOSE)/tcp "
	local key
	for key in title source; do
		check "label org.opencontainers.image.$key" \
			"$(inspect "{{index .Docker.Config.Labels \"org.opencontainers.image.$key\"}}")" \
			"$(grep -o "org.opencontainers.image.$key=\"[^\"]*\"" "$dockerfile" | sed 's/^[^"]*"//; s/"$//')"
	done

	local c mnt out head
	new_container "$image"
	mnt=$(bh mount "$c") || die "buildah mount $c failed"
	check "baselines owner" "$(stat -c %u:%g "$mnt/var/lib/driftwatch/baselines")" 65532:65532
	bh umount "$c" >/dev/null
	out=$(bh run --isolation chroot "$c" -- /usr/local/bin/driftwatch version 2>&1) ||
		die "driftwatch version in $image: $out"
	printf '%s\n' "$out" | sed 's/^/     /'
	head=$(git -C "$repo" rev-parse HEAD)
	check "version commit" "$(printf '%s\n' "$out" | sed -n 's/^  commit  \([0-9a-f]*\).*/\1/p')" "$head"
}

case "${1:-build}" in
build)
	t0=$SECONDS
	mkdir -p "$dir"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/driftwatch-buildah.XXXXXX")
	standins
	build
	checks
	[ "$failed" = 0 ] || die "the image $image fails its checks"
	log "ok: $image built and checked in $((SECONDS - t0)) s (storage $dir, driver $driver)"
	;;
rmi)
	bh rmi "$image" >/dev/null || die "could not remove $image from $dir"
	log "removed $image from $dir"
	;;
*)
	echo "usage: $0 [build|rmi]" >&2
	exit 2
	;;
esac
