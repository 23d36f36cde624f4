#!/usr/bin/env bash
# Installs EdgeProfile (hub, edge agent, operator CLI) as systemd services on this machine.
# Idempotent: re-running updates the binaries and units and keeps existing configuration and data.
#
#   sudo deploy/install.sh [--prefix /opt/edgeprofile] [--config-dir /etc/edgeprofile] [--user edgeprofile]
#                          [--self-contained] [--dry-run]
set -euo pipefail

PREFIX=/opt/edgeprofile
CONFIG_DIR=/etc/edgeprofile
STATE_DIR=/var/lib/edgeprofile
UNIT_DIR=/etc/systemd/system
BIN_DIR=/usr/local/bin
SERVICE_USER=edgeprofile
CONFIGURATION=Release
SELF_CONTAINED=0
DRY_RUN=0
ORIGINAL_ARGS=("$@")

usage() {
  cat <<USAGE
Usage: $(basename "$0") [options]

Publishes the hub, the edge agent and the edgeprofile CLI into PREFIX, creates the service user, copies sample
configuration into CONFIG_DIR when absent, installs the systemd units and reloads systemd.

Options:
  --prefix DIR         install directory (default $PREFIX)
  --config-dir DIR     configuration directory (default $CONFIG_DIR)
  --user NAME          service account (default $SERVICE_USER)
  --unit-dir DIR       systemd unit directory (default $UNIT_DIR)
  --bin-dir DIR        where the edgeprofile command is linked (default $BIN_DIR)
  --configuration C    dotnet build configuration (default $CONFIGURATION)
  --self-contained     bundle the .NET runtime (no runtime needed on the machine)
  --dry-run            print what would be done, change nothing (no root needed)
  -h, --help           this help
USAGE
}

die() { echo "install.sh: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --prefix) [[ $# -ge 2 ]] || die "--prefix needs a directory"; PREFIX="$2"; shift 2 ;;
    --prefix=*) PREFIX="${1#*=}"; shift ;;
    --config-dir) [[ $# -ge 2 ]] || die "--config-dir needs a directory"; CONFIG_DIR="$2"; shift 2 ;;
    --config-dir=*) CONFIG_DIR="${1#*=}"; shift ;;
    --user) [[ $# -ge 2 ]] || die "--user needs a name"; SERVICE_USER="$2"; shift 2 ;;
    --user=*) SERVICE_USER="${1#*=}"; shift ;;
    --unit-dir) [[ $# -ge 2 ]] || die "--unit-dir needs a directory"; UNIT_DIR="$2"; shift 2 ;;
    --unit-dir=*) UNIT_DIR="${1#*=}"; shift ;;
    --bin-dir) [[ $# -ge 2 ]] || die "--bin-dir needs a directory"; BIN_DIR="$2"; shift 2 ;;
    --bin-dir=*) BIN_DIR="${1#*=}"; shift ;;
    --configuration) [[ $# -ge 2 ]] || die "--configuration needs a value"; CONFIGURATION="$2"; shift 2 ;;
    --configuration=*) CONFIGURATION="${1#*=}"; shift ;;
    --self-contained) SELF_CONTAINED=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done

for dir in "$PREFIX" "$CONFIG_DIR" "$UNIT_DIR" "$BIN_DIR"; do
  [[ "$dir" == /* ]] || die "'$dir' must be an absolute path"
  [[ "$dir" != "/" ]] || die "refusing to install into /"
done
[[ "$SERVICE_USER" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "--user '$SERVICE_USER' is not a valid user name"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
[[ -f "$REPO_DIR/EdgeProfile.sln" ]] || die "run this script from the EdgeProfile repository (deploy/install.sh); no EdgeProfile.sln in $REPO_DIR"

# run CMD...: executes, or only prints with --dry-run.
run() {
  if [[ $DRY_RUN -eq 1 ]]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

# write_file MODE OWNER:GROUP DEST < content: installs stdin as DEST.
write_file() {
  local mode="$1" owner="$2" dest="$3" tmp
  if [[ $DRY_RUN -eq 1 ]]; then
    echo "+ write $dest (mode $mode, owner $owner)"
    cat >/dev/null
    return
  fi
  tmp="$(mktemp)"
  cat >"$tmp"
  install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$dest"
  rm -f "$tmp"
}

if [[ $DRY_RUN -eq 0 && $EUID -ne 0 ]]; then
  die "must run as root (sudo $0 ${ORIGINAL_ARGS[*]:-}), or use --dry-run to see what it would do"
fi
command -v dotnet >/dev/null 2>&1 || die "the .NET SDK ('dotnet') is needed to publish; see global.json for the version"

echo "EdgeProfile install: prefix $PREFIX, config $CONFIG_DIR, user $SERVICE_USER$([[ $DRY_RUN -eq 1 ]] && echo ' (dry run)')"

# 1. Publish. As the invoking user when run through sudo, so the repository's obj/ and bin/ stay theirs.
BUILD_USER="${SUDO_USER:-}"
STAGING="$(mktemp -d -t edgeprofile-publish.XXXXXX)"
trap 'rm -rf "$STAGING"' EXIT
publish_args=(-c "$CONFIGURATION" --nologo)
if [[ $SELF_CONTAINED -eq 1 ]]; then
  case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64|arm64) rid=linux-arm64 ;;
    armv7l) rid=linux-arm ;;
    *) die "no .NET runtime identifier known for $(uname -m); drop --self-contained" ;;
  esac
  publish_args+=(-r "$rid" --self-contained true)
fi

declare -A PROJECTS=(
  [hub]="hub/EdgeProfile.Hub.Server/EdgeProfile.Hub.Server.csproj"
  [edge]="edge/EdgeProfile.Edge.Agent/EdgeProfile.Edge.Agent.csproj"
  [cli]="hub/EdgeProfile.Cli/EdgeProfile.Cli.csproj"
)
if [[ -n "$BUILD_USER" && "$BUILD_USER" != root && $DRY_RUN -eq 0 ]]; then
  chown "$BUILD_USER" "$STAGING"
fi
for part in hub edge cli; do
  project="$REPO_DIR/${PROJECTS[$part]}"
  [[ -f "$project" ]] || die "missing project $project"
  if [[ -n "$BUILD_USER" && "$BUILD_USER" != root ]]; then
    run runuser -u "$BUILD_USER" -- dotnet publish "$project" "${publish_args[@]}" -o "$STAGING/$part"
  else
    run dotnet publish "$project" "${publish_args[@]}" -o "$STAGING/$part"
  fi
done

# 2. Service account (no login, no home).
if getent passwd "$SERVICE_USER" >/dev/null 2>&1; then
  echo "user $SERVICE_USER exists"
else
  run useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin \
    --comment "EdgeProfile services" "$SERVICE_USER"
fi

# 3. Binaries: replace each part as a whole, so files removed upstream do not linger.
run install -d -m 0755 "$PREFIX"
for part in hub edge cli; do
  run rm -rf "$PREFIX/$part.new"
  run cp -a "$STAGING/$part" "$PREFIX/$part.new"
  run chown -R root:root "$PREFIX/$part.new"
  run rm -rf "$PREFIX/$part.old"
  if [[ -e "$PREFIX/$part" ]]; then
    run mv "$PREFIX/$part" "$PREFIX/$part.old"
  fi
  run mv "$PREFIX/$part.new" "$PREFIX/$part"
  run rm -rf "$PREFIX/$part.old"
done
run install -m 0644 "$SCRIPT_DIR/README.md" "$PREFIX/README.deploy.md"
run ln -sfn "$PREFIX/cli/edgeprofile" "$BIN_DIR/edgeprofile"

# 4. Configuration: copied once, never overwritten; readable by the service user only.
run install -d -m 0750 -o root -g "$SERVICE_USER" "$CONFIG_DIR"
for name in hub edge; do
  dest="$CONFIG_DIR/$name.appsettings.json"
  if [[ -e "$dest" ]]; then
    echo "keeping $dest"
  else
    run install -m 0640 -o root -g "$SERVICE_USER" "$SCRIPT_DIR/$name.appsettings.json" "$dest"
  fi
  # The units name this file in EDGEPROFILE_CONFIG; the hosts read it after their shipped appsettings.json.
done
run install -m 0640 -o root -g "$SERVICE_USER" "$SCRIPT_DIR/edge.env.example" "$CONFIG_DIR/edge.env.example"

# 5. Units, with the paths and user chosen here.
for unit in edgeprofile-hub.service edgeprofile-edge@.service; do
  sed -e "s#/opt/edgeprofile#$PREFIX#g" \
      -e "s#/etc/edgeprofile#$CONFIG_DIR#g" \
      -e "s#^User=edgeprofile\$#User=$SERVICE_USER#" \
      -e "s#^Group=edgeprofile\$#Group=$SERVICE_USER#" \
      "$SCRIPT_DIR/$unit" | write_file 0644 root:root "$UNIT_DIR/$unit"
done
if [[ -d /run/systemd/system ]]; then
  run systemctl daemon-reload
else
  echo "systemd is not running here; run 'systemctl daemon-reload' on the target system"
fi

cat <<NEXT

EdgeProfile is installed in $PREFIX ($([[ $SELF_CONTAINED -eq 1 ]] && echo self-contained || echo "needs the .NET 10 runtime")).
Next steps:
  1. Hub:   edit $CONFIG_DIR/hub.appsettings.json, then
            systemctl enable --now edgeprofile-hub
            journalctl -u edgeprofile-hub -f
            The operator token is generated into $STATE_DIR/hub/operator.token (or set Hub:OperatorToken).
  2. Enroll a store (on the hub or anywhere that reaches it):
            edgeprofile enroll create --store store-001 --hub http://HUB:8080 --token-file $STATE_DIR/hub/operator.token
  3. Edge:  edit $CONFIG_DIR/edge.appsettings.json (shared by all edges on this box), then
            cp $CONFIG_DIR/edge.env.example $CONFIG_DIR/edge-store-001.env   # ports, hub URL, enrollment token
            systemctl enable --now edgeprofile-edge@store-001
            curl -s http://127.0.0.1:8081/api/health
  4. Check: edgeprofile stores list --hub http://HUB:8080 --token-file $STATE_DIR/hub/operator.token
NEXT
