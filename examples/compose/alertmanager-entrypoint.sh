#!/bin/sh
# Entry point of the alertmanager service in docker-compose.yml.
#
# Alertmanager 0.25 does not expand environment variables in its configuration, so this renders
# the shipped alertmanager/alertmanager.yml (mounted unchanged at /etc/alertmanager/alertmanager.yml,
# the same file the stack tests use) with the SMTP and endpoint settings of .env, then execs
# Alertmanager on the result. Only these lines change; routing, receivers, inhibition, templates
# and the *_file secrets stay exactly as shipped:
#
#   global.smtp_smarthost      SMTP_SMARTHOST       default mailpit:1025 (the compose e-mail sink)
#   global.smtp_from           SMTP_FROM            default Vigil Alertmanager <alertmanager@vigil.local>
#   global.smtp_hello          SMTP_HELLO           default alertmanager
#   global.smtp_auth_username  SMTP_AUTH_USERNAME   default empty: no SMTP AUTH (the password is
#                                                   the smtp_password secret file)
#   global.smtp_require_tls    SMTP_REQUIRE_TLS     default false (Mailpit speaks plain SMTP)
#   global.pagerduty_url       PAGERDUTY_URL        default https://events.pagerduty.com/v2/enqueue
#   dead man's switch URL      DEADMANS_SWITCH_URL  default the Vigil exporter's alerting-pipeline heartbeat
#
# Chat channels are off until configured: a channel's `#chat:<name> ` blocks (its route and its
# receiver) are uncommented only when its secret file under $AM_SECRETS_DIR is non-empty and its
# setting is present (docs/alerting.md#chat-channels):
#
#   slack      secret slack_webhook_url     SLACK_CHANNEL (optional; an incoming webhook posts to its own channel)
#   telegram   secret telegram_bot_token    TELEGRAM_CHAT_ID (required, an integer)
#   discord    secret discord_webhook_url
#   webex      secret webex_bot_token       WEBEX_ROOM_ID (required)
#
# Alertmanager 0.25 has no *_file field for Telegram's token or Discord's URL, so those two are
# written into the rendered copy, which is therefore created readable by its owner only.
#
# Tested by tests/integration/compose.test.ts (rendered with /bin/sh and checked with amtool).
set -eu
umask 077

src=${AM_CONFIG_IN:-/etc/alertmanager/alertmanager.yml}
out=${AM_CONFIG_OUT:-/alertmanager/alertmanager.rendered.yml}
secrets=${AM_SECRETS_DIR:-/etc/alertmanager/secrets}

# A value for a single-quoted YAML scalar inside a sed replacement: ' -> '' (YAML), then \ | & (sed).
val() { printf '%s' "$1" | sed -e "s/'/''/g" -e 's/[\\|&]/\\&/g'; }

case "${SMTP_REQUIRE_TLS:-false}" in
  true|false) ;;
  *) echo "alertmanager-entrypoint: SMTP_REQUIRE_TLS must be true or false, got '${SMTP_REQUIRE_TLS}'" >&2; exit 1 ;;
esac

# A sed script that switches on each configured chat channel (empty: every block stays a comment).
# A file, not shell words: the secret values never pass through the shell's parser.
chat=$(mktemp)
secret() { [ -s "$secrets/$1" ] && cat "$secrets/$1"; }
if secret slack_webhook_url >/dev/null; then
  printf '%s\n' 's|^#chat:slack ||' "s|__SLACK_CHANNEL__|$(val "${SLACK_CHANNEL:-}")|" >> "$chat"
fi
if secret telegram_bot_token >/dev/null; then
  case "${TELEGRAM_CHAT_ID:-}" in
    ''|-|*[!0-9-]*|?*-*) echo "alertmanager-entrypoint: telegram_bot_token is set but TELEGRAM_CHAT_ID is not an integer: '${TELEGRAM_CHAT_ID:-}'" >&2; rm -f "$chat"; exit 1 ;;
  esac
  printf '%s\n' 's|^#chat:telegram ||' "s|__TELEGRAM_BOT_TOKEN__|$(val "$(secret telegram_bot_token)")|" "s|__TELEGRAM_CHAT_ID__|$TELEGRAM_CHAT_ID|" >> "$chat"
fi
if secret discord_webhook_url >/dev/null; then
  printf '%s\n' 's|^#chat:discord ||' "s|__DISCORD_WEBHOOK_URL__|$(val "$(secret discord_webhook_url)")|" >> "$chat"
fi
if secret webex_bot_token >/dev/null; then
  if [ -z "${WEBEX_ROOM_ID:-}" ]; then
    echo "alertmanager-entrypoint: webex_bot_token is set but WEBEX_ROOM_ID is empty" >&2; rm -f "$chat"; exit 1
  fi
  printf '%s\n' 's|^#chat:webex ||' "s|__WEBEX_ROOM_ID__|$(val "$WEBEX_ROOM_ID")|" >> "$chat"
fi

sed -f "$chat" \
  -e "s|^\(  smtp_smarthost:\).*|\1 '$(val "${SMTP_SMARTHOST:-mailpit:1025}")'|" \
  -e "s|^\(  smtp_from:\).*|\1 '$(val "${SMTP_FROM:-Vigil Alertmanager <alertmanager@vigil.local>}")'|" \
  -e "s|^\(  smtp_hello:\).*|\1 '$(val "${SMTP_HELLO:-alertmanager}")'|" \
  -e "s|^\(  smtp_auth_username:\).*|\1 '$(val "${SMTP_AUTH_USERNAME:-}")'|" \
  -e "s|^\(  smtp_require_tls:\).*|\1 ${SMTP_REQUIRE_TLS:-false}|" \
  -e "s|^\(  pagerduty_url:\).*|\1 '$(val "${PAGERDUTY_URL:-https://events.pagerduty.com/v2/enqueue}")'|" \
  -e "s|'https://deadmans-switch\.example\.com/ping/vigil'|'$(val "${DEADMANS_SWITCH_URL:-http://vigil:9470/api/v1/heartbeats/alerting-pipeline}")'|" \
  "$src" > "$out"
rm -f "$chat"

exec "${ALERTMANAGER_BIN:-/bin/alertmanager}" --config.file="$out" "$@"
