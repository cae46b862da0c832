"""Log and console messages of the runtime, in one place (like Bolt's logger/messages.py)."""

from __future__ import annotations

SERVING = "Closing Coach is listening on http://{host}:{port}/ ({database})"
WEBCHAT_ON = "Web chat: on at http://{host}:{port}/ (loopback only: {loopback_only})"
WEBCHAT_OFF = "Web chat: off (server.webchat is false in {config})"
SLACK_OFF = "Slack: off (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or SLACK_APP_TOKEN, or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET)"
SLACK_ON = "Slack: on at POST /slack/events ({mode})"
TEAMS_OFF = "Teams: off (set MicrosoftAppId and MicrosoftAppPassword)"
TEAMS_ON = "Teams: on at POST /api/messages (app id {app_id})"
DEMO_SEEDED = "Demo data: a manager and {reps} reps with {debriefs} debriefs in workspace '{workspace}'"
MIGRATED = "Database schema at revision {revision}"
DB_UNREACHABLE = "Health check: the database does not answer: {error}"
WEBCHAT_REFUSED = "Web chat request from {remote} refused: the web chat answers loopback only"
