# shellcheck shell=bash
# Sourced by .ci/run: Debian's chromium for cmd/diagctl's
# TestDashboardInChromium, which opens the agent's dashboard, and the file
# `diagctl dashboard` saves, in headless Chromium on loopback.
#
#   chromium_install  install Debian's chromium (CI=true, or not installed)
#   chromium_env      export DIAGKIT_TEST_CHROMIUM (the browser) and
#                     DIAGKIT_ARTIFACTS (.ci/artifacts unless set: the test
#                     writes its screenshots and the saved page there)
#
# The test starts the browser itself, with a fresh profile, and stops it;
# nothing is left running.

chromium_log() { echo "chromium: $*"; }

# shellcheck source=.ci/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

chromium_install() { apt_install chromium chromium; }

# chromium_version prints the browser's version line. (Debian's launcher
# script may complain on stderr while it reads /etc/chromium.d.)
chromium_version() {
	chromium --version 2>/dev/null | head -n 1
}

chromium_env() {
	local bin
	bin=$(command -v chromium || true)
	if [ -z "$bin" ]; then
		chromium_log "not installed: the browser test will skip (and fail under CI=true)"
		return 0
	fi
	export DIAGKIT_TEST_CHROMIUM="$bin"
	export DIAGKIT_ARTIFACTS="${DIAGKIT_ARTIFACTS:-$PWD/.ci/artifacts}"
	mkdir -p "$DIAGKIT_ARTIFACTS"
	chromium_log "$(chromium_version) at $bin; screenshots in $DIAGKIT_ARTIFACTS"
}
