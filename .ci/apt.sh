# shellcheck shell=bash
# Sourced by .ci/prometheus.sh and .ci/chromium.sh.
#
#   apt_install PACKAGE COMMAND  install Debian's PACKAGE with apt-get under
#                                CI=true, or when COMMAND is not on PATH.
#                                Failure to install is reported, not fatal:
#                                the tests that need it then skip (and fail
#                                under CI=true), saying why.

apt_install() {
	local pkg=$1 cmd=$2
	if [ "${CI:-}" != true ] && command -v "$cmd" >/dev/null 2>&1; then
		echo "$pkg: already installed ($(command -v "$cmd")), not reinstalling outside CI"
		return 0
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "$pkg: cannot install: apt-get not found (not a Debian-based system?)"
		return 0
	fi
	local sudo=""
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo="sudo -n"
		else
			echo "$pkg: cannot install: apt-get needs root, and passwordless sudo is not available"
			return 0
		fi
	fi
	local log
	log=$(mktemp)
	if $sudo apt-get update -qq >"$log" 2>&1 &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >>"$log" 2>&1; then
		echo "$pkg: installed: $("$cmd" --version 2>/dev/null | head -n 1)"
	else
		echo "$pkg: cannot install: apt-get failed:"
		tail -n 20 "$log" | sed 's/^/  /'
	fi
	rm -f "$log"
}
