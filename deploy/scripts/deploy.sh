#!/usr/bin/env bash
# Fly.io deployments of just-ingredients (runbook: docs/deployment.md).
#
#   deploy/scripts/deploy.sh [options] provision
#       first time, idempotent: apps, Fly Postgres clusters (1 GB volume each), attach
#   deploy/scripts/deploy.sh [options] deploy
#       gates -> staging -> smoke -> production (blue/green) -> smoke; a failed smoke
#       redeploys the previous image of that app, alerts, and exits 1
#   deploy/scripts/deploy.sh [options] rollback staging|production [IMAGE]
#       redeploy IMAGE, or the image of the release before the current one
#
# options:
#   --dry-run        print every command, run none (no fly call at all)
#   --skip-gates     no local gates (format, lint, types, tests); CI ran them already
#   --local-build    build the image here (fly deploy --local-only) instead of Fly's builder
#   --staging-only   stop after the staging smoke
#   --production-only  skip staging (CI: deploy-production.yml checks staging's run first)
#
# environment:
#   FLY              flyctl command (default: fly)
#   JI               the CLI (default: uv run --frozen --no-sync just-ingredients)
#   JI_SMOKE_CMD     smoke command (default: "$JI smoke"); gets --base-url URL --since T
#   JI_ALERT_CMD     alert command, gets the message as its last argument (default:
#                    "$JI alert" if that command exists, else the message is only logged)
#   FLY_ORG          organisation for provision (default: personal)
#   FLY_REGION       region for provision (default: cdg, as primary_region in the configs)
#   STAGING_* / PRODUCTION_*  TELEGRAM_BOT_TOKEN, WEBHOOK_SECRET, ADMIN_CHAT_ID for the
#                    smoke of each environment (without a token the smoke is --http-only)
set -euo pipefail
cd "$(dirname "$0")/../.."

DRY_RUN=0
GATES=1
BUILD=--remote-only
STAGING_ONLY=0
PRODUCTION_ONLY=0
COMMAND=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --skip-gates) GATES=0 ;;
    --local-build) BUILD=--local-only ;;
    --staging-only) STAGING_ONLY=1 ;;
    --production-only) PRODUCTION_ONLY=1 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    provision|deploy|rollback) COMMAND=$1 ;;
    -*) echo "deploy: unknown option $1" >&2; exit 2 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
[ -n "$COMMAND" ] || { sed -n '2,12p' "$0" >&2; exit 2; }

FLY=${FLY:-fly}
JI=${JI:-uv run --frozen --no-sync just-ingredients}
JI_SMOKE_CMD=${JI_SMOKE_CMD:-$JI smoke}
FLY_ORG=${FLY_ORG:-personal}
FLY_REGION=${FLY_REGION:-cdg}
DOCKERFILE=deploy/Dockerfile

log() { echo "deploy: $*" >&2; }
# run CMD...: print it; run it unless --dry-run
run() {
  echo "+ $*" >&2
  [ "$DRY_RUN" = 1 ] || "$@"
}
# query CMD...: a read-only command whose output is needed; prints nothing in a dry run
query() {
  if [ "$DRY_RUN" = 1 ]; then echo "+ $*" >&2; return 0; fi
  "$@"
}

app_of() { case "$1" in staging) echo just-ingredients-staging ;; production) echo just-ingredients ;; esac; }
config_of() { echo "deploy/fly.$1.toml"; }
url_of() { echo "https://$(app_of "$1").fly.dev"; }
prefix_of() { case "$1" in staging) echo STAGING_ ;; production) echo PRODUCTION_ ;; esac; }

# current_image ENV: the image reference the app runs now ("" when none)
current_image() {
  query "$FLY" image show --app "$(app_of "$1")" --json 2>/dev/null | python3 -c '
import json, sys
text = sys.stdin.read().strip()
try:
    data = json.loads(text) if text else None
except ValueError:
    data = None
items = data if isinstance(data, list) else [data] if data else []
for item in items:
    ref = item.get("Ref") or item.get("ImageRef") or item.get("image_ref")
    if not ref and item.get("Repository"):
        ref = "/".join(p for p in (item.get("Registry"), item["Repository"]) if p)
        ref += ":" + item["Tag"] if item.get("Tag") else "@" + item.get("Digest", "")
    if ref:
        print(ref)
        break
' || true
}

# previous_image ENV: the image of the newest complete release before the current one
previous_image() {
  query "$FLY" releases --app "$(app_of "$1")" --json 2>/dev/null | python3 -c '
import json, sys
text = sys.stdin.read().strip()
try:
    releases = json.loads(text) if text else []
except ValueError:
    releases = []
def field(r, *names):
    return next((r[n] for n in names if r.get(n) not in (None, "")), None)
done = [r for r in releases if str(field(r, "Status", "status") or "").lower()
        in ("complete", "succeeded", "successful")]
done.sort(key=lambda r: int(field(r, "Version", "version") or 0), reverse=True)
refs = [field(r, "ImageRef", "imageRef", "image_ref") for r in done]
refs = [r for r in refs if r]
if len(refs) >= 2:
    print(refs[1])
' || true
}

alert() {
  local message=$1
  log "ALERT: $message"
  if [ -n "${JI_ALERT_CMD:-}" ]; then
    run $JI_ALERT_CMD "$message" || log "alert command failed"
  elif [ "$DRY_RUN" = 0 ] && $JI alert --help >/dev/null 2>&1; then
    run $JI alert "$message" || log "alert command failed"
  fi
}

# smoke ENV START: the smoke command with that environment's Telegram settings in its env
smoke() {
  local env=$1 start=$2 prefix token secret chat extra=()
  prefix=$(prefix_of "$env")
  token=${prefix}TELEGRAM_BOT_TOKEN; secret=${prefix}WEBHOOK_SECRET; chat=${prefix}ADMIN_CHAT_ID
  if [ -z "${!token:-}" ]; then
    log "warning: no ${prefix}TELEGRAM_BOT_TOKEN: $env smoke checks health only (--http-only)"
    extra=(--http-only)
  fi
  echo "+ $JI_SMOKE_CMD --base-url $(url_of "$env") --since $start ${extra[*]}" >&2
  [ "$DRY_RUN" = 1 ] && return 0
  TELEGRAM_BOT_TOKEN=${!token:-} WEBHOOK_SECRET=${!secret:-} ADMIN_CHAT_ID=${!chat:-} \
    $JI_SMOKE_CMD --base-url "$(url_of "$env")" --since "$start" "${extra[@]}"
}

rollback_to() {  # rollback_to ENV IMAGE
  local env=$1 image=$2
  if [ -z "$image" ]; then
    log "no previous image of $(app_of "$env") to roll back to"
    return 1
  fi
  run "$FLY" deploy --config "$(config_of "$env")" --app "$(app_of "$env")" --image "$image"
}

# deploy_env ENV: deploy, smoke, and on a failed smoke roll back + alert + exit 1
deploy_env() {
  local env=$1 previous start
  previous=$(current_image "$env")
  log "$env runs ${previous:-no image yet}; deploying"
  start=$(date +%s)
  local args=(deploy . --config "$(config_of "$env")" --app "$(app_of "$env")"
              --dockerfile "$DOCKERFILE" "$BUILD")
  [ "$env" = production ] && args+=(--strategy bluegreen)
  if ! run "$FLY" "${args[@]}"; then
    alert "deploy of $(app_of "$env") failed (release command or health checks); Fly kept the running version"
    exit 1
  fi
  if ! smoke "$env" "$start"; then
    log "$env smoke FAILED: rolling back to ${previous:-nothing}"
    if rollback_to "$env" "$previous"; then
      alert "$env smoke failed after deploy; rolled back $(app_of "$env") to $previous"
    else
      alert "$env smoke failed after deploy; ROLLBACK FAILED for $(app_of "$env"): act now"
    fi
    exit 1
  fi
  log "$env OK"
}

gates() {
  if [ "$GATES" = 0 ]; then log "gates skipped (--skip-gates)"; return 0; fi
  run uv run --frozen ruff format --check src tests bench samples
  run uv run --frozen ruff check src tests bench samples
  run uv run --frozen mypy
  run uv run --frozen pytest -q
}

provision() {
  local apps env app db secrets
  apps=$(query "$FLY" apps list --json || echo '[]')
  for env in staging production; do
    app=$(app_of "$env"); db="$app-db"
    if has_name "$apps" "$app"; then log "app $app exists"; else
      run "$FLY" apps create "$app" --org "$FLY_ORG"
    fi
    if has_name "$apps" "$db"; then log "postgres $db exists"; else
      # single node, shared-cpu-1x, 1 GB volume (cost-report --volume-gb 1)
      run "$FLY" postgres create --name "$db" --org "$FLY_ORG" --region "$FLY_REGION" \
        --initial-cluster-size 1 --vm-size shared-cpu-1x --volume-size 1
    fi
    secrets=$(query "$FLY" secrets list --app "$app" --json || echo '[]')
    if has_name "$secrets" DATABASE_URL; then log "$app already has DATABASE_URL"; else
      run "$FLY" postgres attach "$db" --app "$app"   # sets the DATABASE_URL secret
    fi
  done
  log "next: deploy/scripts/secrets.sh staging --stage; secrets.sh production --stage; deploy.sh deploy"
}

has_name() {  # has_name JSON NAME: NAME in a fly --json list (Name/name keys)
  printf '%s' "$1" | python3 -c '
import json, sys
try:
    items = json.loads(sys.stdin.read() or "[]")
except ValueError:
    items = []
names = {str(i.get("Name") or i.get("name") or "") for i in items if isinstance(i, dict)}
sys.exit(0 if sys.argv[1] in names else 1)
' "$2"
}

case "$COMMAND" in
  provision) provision ;;
  deploy)
    gates
    if [ "$PRODUCTION_ONLY" = 1 ]; then
      log "--production-only: staging not deployed here"
    else
      deploy_env staging
    fi
    if [ "$STAGING_ONLY" = 1 ]; then log "--staging-only: production not deployed"; exit 0; fi
    deploy_env production
    log "done: staging and production deployed and smoke-checked"
    ;;
  rollback)
    env=${ARGS[0]:-}
    case "$env" in staging|production) ;; *) echo "deploy: rollback staging|production [IMAGE]" >&2; exit 2 ;; esac
    image=${ARGS[1]:-}
    [ -n "$image" ] || image=$(previous_image "$env")
    [ "$DRY_RUN" = 1 ] && [ -z "$image" ] && image="<image of the previous release>"
    rollback_to "$env" "$image"
    ;;
esac
