#!/bin/sh
# Run once by the postgres image on a new data volume (docker-entrypoint-initdb.d):
# lets the postgres-replica service (docker-compose.yml, profile "replicas")
# stream WAL as the database owner, with a password.
set -e
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
