#!/usr/bin/env bash
# update_user.sh USER_ID COMPANY: sets a user's company with the ycm command line, then
# reads the user back. The settings come from the environment (YCM_BASE_URL and
# YCM_ACCESS_TOKEN, or YCM_CLIENT_ID and YCM_CLIENT_SECRET), never from a flag: a flag
# shows in `ps`. `make docs-examples` runs it against ycm-mock; the site includes it.
set -euo pipefail
user_id=$1 company=$2
ycm=${YCM_BIN:-ycm}

# ANCHOR: update
# export YCM_BASE_URL=https://ycm.yeastar.com YCM_ACCESS_TOKEN=...   (or a profile)
"$ycm" users update "$user_id" --company "$company"
"$ycm" users get "$user_id" --output json
# ANCHOR_END: update
