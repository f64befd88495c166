#!/bin/sh
# afp-post-init.sh DATABASE CONNINFO — Patroni's bootstrap.post_init for afp clusters.
# Patroni runs it once, as the PostgreSQL OS user, on the node that initialises the cluster,
# right after initdb, appending a libpq conninfo (key=value, dbname=postgres) to the arguments
# it is configured with. Creates DATABASE (the one named by afp.delivery_database and
# cron.database_name) and the extensions pg_cron and afp in it. Idempotent.
set -eu
db=$1
conn=$2
PSQL=${PSQL:-psql}
if [ "$($PSQL -XAtq -d "$conn" -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
  $PSQL -Xq -v ON_ERROR_STOP=1 -d "$conn" -c "CREATE DATABASE \"$db\""
fi
# the later dbname= in a conninfo wins
$PSQL -Xq -v ON_ERROR_STOP=1 -d "$conn dbname=$db" \
  -c "CREATE EXTENSION IF NOT EXISTS pg_cron" \
  -c "CREATE EXTENSION IF NOT EXISTS afp"
