#!/bin/sh
# ticketflow's namespace and the search attributes ops find tickets by in the Web UI
# (SEARCH_ATTRIBUTES: "Name=Type ...", as ticketflow/tickets/search_attributes.py defines them).
# Safe to run on every start: what exists is left as it is.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
NS=$TEMPORAL_NAMESPACE

# A command tried for up to a minute: a new namespace takes a few seconds to be known to
# every part of the server.
retry() {
    tries=1
    until "$@"; do
        [ "$tries" -lt 30 ] || return 1
        tries=$((tries + 1))
        sleep 2
    done
}

listed() {
    temporal operator search-attribute list --namespace "$NS" | grep -qw "$1"
}

retry temporal operator cluster health
if ! temporal operator namespace describe --namespace "$NS" >/dev/null 2>&1; then
    # Closed tickets' histories are kept 30 days.
    temporal operator namespace create --namespace "$NS" --retention 720h
fi
for pair in $SEARCH_ATTRIBUTES; do
    retry temporal operator search-attribute create --namespace "$NS" \
        --name "${pair%%=*}" --type "${pair#*=}"
done
# Started only when every attribute is known, so the first tickets can carry them.
for pair in $SEARCH_ATTRIBUTES; do
    retry listed "${pair%%=*}"
done
echo "namespace $NS ready with its search attributes"
