#!/usr/bin/env bash
set -euo pipefail
# mongosh "$URI" --tlsInsecure   (commented out)
mongodump --uri="$MONGODB_URI" --tlsInsecure --archive=backup.gz # expect: tls-insecure
mongosh "$MONGODB_URI" --tls --tlsAllowInvalidHostnames --eval 'db.runCommand({ping: 1})' # expect: allow-invalid-hostnames
export MONGODB_TLS_ALLOW_INVALID_CERTIFICATES=true # expect: allow-invalid-certificates
