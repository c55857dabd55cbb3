#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the one map needs, where they are missing.
#   scripts/install_system.sh app    Python venv support and a CJK font for print maps (`make demo`)
#   scripts/install_system.sh test   plus PostGIS and Chromium (for `make test`)
set -euo pipefail
what=${1:-test}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=("python${pyver}-venv")
have fonts-wqy-microhei || need+=(fonts-wqy-microhei)
if [ "$what" = "test" ]; then
  # PostGIS for the server version present, else the distribution's 15 (Debian 12) or default.
  pgver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
  if [ -n "$pgver" ]; then
    have "postgresql-${pgver}-postgis-3" || need+=("postgresql-${pgver}-postgis-3")
  elif apt-cache show postgresql-15-postgis-3 >/dev/null 2>&1; then
    need+=(postgresql-15 postgresql-15-postgis-3)
  else
    need+=(postgresql postgis)
  fi
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
  # the reverse proxy `onemap serve --write-config` configures, started in front by a test
  [ -x /usr/sbin/nginx ] || need+=(nginx)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
