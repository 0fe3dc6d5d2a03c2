#!/usr/bin/env bash
# Stop the local WordPress started by scripts/wordpress-up.sh (apache2 and mariadb).
# Data, configuration and credentials are kept: wordpress-up.sh brings it back in seconds.
#
# Usage: scripts/wordpress-down.sh
set -euo pipefail

log() { printf '[wordpress-down] %s\n' "$*" >&2; }

if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { log "ERROR: must run as root (or with sudo available)"; exit 1; }
    exec sudo bash "$(readlink -f "${BASH_SOURCE[0]}")" "$@"
fi

status=0
for svc in apache2 mariadb; do
    if ! command -v "$( [[ $svc == apache2 ]] && echo apache2ctl || echo mysqladmin )" >/dev/null 2>&1; then
        log "$svc is not installed"
        continue
    fi
    if service "$svc" status >/dev/null 2>&1; then
        log "stopping $svc"
        service "$svc" stop >&2 || { log "ERROR: could not stop $svc"; status=1; }
    else
        log "$svc is not running"
    fi
done
exit "$status"
