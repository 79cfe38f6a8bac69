#!/bin/sh
# --tlsAllowInvalidCertificates is never used here
mongosh "$MONGODB_URI" --tlsAllowInvalidCertificates=false --tlsCAFile ca.pem
export MONGODB_TLS_INSECURE="${MONGODB_TLS_INSECURE:-false}"
if [ "$MONGODB_TLS_ALLOW_INVALID_CERTIFICATES" = "true" ]; then echo "refusing"; exit 1; fi
curl -k https://example.com
