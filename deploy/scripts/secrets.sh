#!/usr/bin/env bash
# Set the app's secrets on Fly from the environment or an env file. Never prints a value.
#
#   deploy/scripts/secrets.sh staging|production [--stage] [--env-file FILE] [--dry-run]
#
# Secrets and where they come from (the environment's prefix is STAGING_ or PRODUCTION_):
#   TELEGRAM_BOT_TOKEN  required: $STAGING_TELEGRAM_BOT_TOKEN, or the env file
#   WEBHOOK_SECRET      $STAGING_WEBHOOK_SECRET or the file; generated when absent (and, with
#                       --env-file, appended to that file so the smoke check can use it)
#   DATABASE_URL        optional: `fly postgres attach` (deploy.sh provision) already sets it
#   ADMIN_CHAT_ID       optional but recommended (alerts, smoke photo)
# In the env file (KEY=VALUE lines, # comments; never executed) a key may be written with or
# without the prefix; the prefixed form wins.
#
# The values go to `fly secrets import` on stdin, so they never appear in a command line or
# the process list. --stage stores them without restarting the machines (applied on the next
# deploy). The same bot token for staging and production is refused (compared by SHA-256
# when both are known: from the environment or the env file).
# FLY (default: fly) is the flyctl command.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { sed -n '2,19p' "$0" >&2; exit 2; }
ENVIRONMENT=""
STAGE=0
ENV_FILE=""
DRY_RUN=0
while [ $# -gt 0 ]; do
  case "$1" in
    staging|production) ENVIRONMENT=$1; shift ;;
    --stage) STAGE=1; shift ;;
    --env-file) ENV_FILE=${2:?--env-file needs a FILE}; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage ;;
    *) echo "secrets: unknown argument $1" >&2; usage ;;
  esac
done
[ -n "$ENVIRONMENT" ] || usage
FLY=${FLY:-fly}
log() { echo "secrets: $*" >&2; }

case "$ENVIRONMENT" in
  staging) APP=just-ingredients-staging; PREFIX=STAGING_; OTHER=PRODUCTION_ ;;
  production) APP=just-ingredients; PREFIX=PRODUCTION_; OTHER=STAGING_ ;;
esac
NAMES=(TELEGRAM_BOT_TOKEN WEBHOOK_SECRET DATABASE_URL ADMIN_CHAT_ID)

declare -A FILE_VALUES=()
if [ -n "$ENV_FILE" ]; then
  [ -r "$ENV_FILE" ] || { log "cannot read $ENV_FILE"; exit 2; }
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    line=${line#export }
    key=${line%%=*}
    value=${line#*=}
    key=${key//[[:space:]]/}
    if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    FILE_VALUES[$key]=$value
  done <"$ENV_FILE"
fi

# value NAME PREFIX: the environment's $PREFIX$NAME, else the file's PREFIX+NAME, else the
# file's plain NAME (plain names in a file belong to the environment being set only)
value() {
  local name=$1 prefix=$2 var="$2$1"
  if [ -n "${!var:-}" ]; then printf '%s' "${!var}"; return; fi
  if [ -n "${FILE_VALUES[$prefix$name]:-}" ]; then printf '%s' "${FILE_VALUES[$prefix$name]}"; return; fi
  if [ "$prefix" = "$PREFIX" ] && [ -n "${FILE_VALUES[$name]:-}" ]; then
    printf '%s' "${FILE_VALUES[$name]}"
  fi
}
sha() { python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'; }

TOKEN=$(value TELEGRAM_BOT_TOKEN "$PREFIX")
if [ -z "$TOKEN" ]; then
  log "no TELEGRAM_BOT_TOKEN for $ENVIRONMENT: set ${PREFIX}TELEGRAM_BOT_TOKEN or use --env-file"
  exit 2
fi
OTHER_TOKEN=$(value TELEGRAM_BOT_TOKEN "$OTHER")
if [ -n "$OTHER_TOKEN" ] && [ "$(printf '%s' "$TOKEN" | sha)" = "$(printf '%s' "$OTHER_TOKEN" | sha)" ]; then
  log "refusing: staging and production use the same bot token (one bot per environment)"
  exit 3
fi
[ -n "$OTHER_TOKEN" ] || log "note: the ${OTHER%_} token is unknown here, so it was not compared"

declare -A SECRETS=([TELEGRAM_BOT_TOKEN]=$TOKEN)
for name in WEBHOOK_SECRET DATABASE_URL ADMIN_CHAT_ID; do
  v=$(value "$name" "$PREFIX")
  [ -n "$v" ] && SECRETS[$name]=$v
done
if [ -z "${SECRETS[WEBHOOK_SECRET]:-}" ]; then
  SECRETS[WEBHOOK_SECRET]=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
  if [ -n "$ENV_FILE" ] && [ "$DRY_RUN" = 0 ]; then
    printf '\n%sWEBHOOK_SECRET=%s\n' "$PREFIX" "${SECRETS[WEBHOOK_SECRET]}" >>"$ENV_FILE"
    chmod 600 "$ENV_FILE"
    log "generated WEBHOOK_SECRET (appended to $ENV_FILE as ${PREFIX}WEBHOOK_SECRET)"
  else
    log "generated WEBHOOK_SECRET (not shown; keep --env-file to store it for the smoke check)"
  fi
fi
[ -n "${SECRETS[ADMIN_CHAT_ID]:-}" ] || log "warning: no ADMIN_CHAT_ID: no alerts, no smoke photo"
[ -n "${SECRETS[DATABASE_URL]:-}" ] || log "note: DATABASE_URL not given (fly postgres attach sets it)"

args=(secrets import --app "$APP")
[ "$STAGE" = 1 ] && args+=(--stage)
names=()
for name in "${NAMES[@]}"; do
  [ -n "${SECRETS[$name]:-}" ] && names+=("$name")
done
if [ "$DRY_RUN" = 1 ]; then
  echo "+ $FLY ${args[*]}   # stdin: $(printf '%s=*** ' "${names[@]}")"
  exit 0
fi
for name in "${names[@]}"; do
  printf '%s=%s\n' "$name" "${SECRETS[$name]}"
done | "$FLY" "${args[@]}"
log "set ${names[*]} on $APP$([ "$STAGE" = 1 ] && echo ' (staged: applied on the next deploy)')"
