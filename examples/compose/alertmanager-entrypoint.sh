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
# Tested by tests/integration/compose.test.ts (rendered with /bin/sh and checked with amtool).
set -eu

src=${AM_CONFIG_IN:-/etc/alertmanager/alertmanager.yml}
out=${AM_CONFIG_OUT:-/alertmanager/alertmanager.rendered.yml}

# A value for a single-quoted YAML scalar inside a sed replacement: ' -> '' (YAML), then \ | & (sed).
val() { printf '%s' "$1" | sed -e "s/'/''/g" -e 's/[\\|&]/\\&/g'; }

case "${SMTP_REQUIRE_TLS:-false}" in
  true|false) ;;
  *) echo "alertmanager-entrypoint: SMTP_REQUIRE_TLS must be true or false, got '${SMTP_REQUIRE_TLS}'" >&2; exit 1 ;;
esac

sed \
  -e "s|^\(  smtp_smarthost:\).*|\1 '$(val "${SMTP_SMARTHOST:-mailpit:1025}")'|" \
  -e "s|^\(  smtp_from:\).*|\1 '$(val "${SMTP_FROM:-Vigil Alertmanager <alertmanager@vigil.local>}")'|" \
  -e "s|^\(  smtp_hello:\).*|\1 '$(val "${SMTP_HELLO:-alertmanager}")'|" \
  -e "s|^\(  smtp_auth_username:\).*|\1 '$(val "${SMTP_AUTH_USERNAME:-}")'|" \
  -e "s|^\(  smtp_require_tls:\).*|\1 ${SMTP_REQUIRE_TLS:-false}|" \
  -e "s|^\(  pagerduty_url:\).*|\1 '$(val "${PAGERDUTY_URL:-https://events.pagerduty.com/v2/enqueue}")'|" \
  -e "s|'https://deadmans-switch\.example\.com/ping/vigil'|'$(val "${DEADMANS_SWITCH_URL:-http://vigil:9470/api/v1/heartbeats/alerting-pipeline}")'|" \
  "$src" > "$out"

exec "${ALERTMANAGER_BIN:-/bin/alertmanager}" --config.file="$out" "$@"
