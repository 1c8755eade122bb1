#!/bin/sh
# One-shot: a private CA and certificates for PostgreSQL ("db") and the
# gateway ("localhost"), written to the certs volume once. Replace guard.crt
# and guard.key with certificates from your own CA for anything but a trial;
# the gateway reloads them when they change.
set -eu
cd "${CERTS_DIR:-/certs}"
if [ -f ca.crt ]; then
  echo "certificates exist; keeping them"
  exit 0
fi
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=mlflow-guarded example CA" -keyout ca.key -out ca.crt
for name in db guard; do
  if [ "$name" = db ]; then san="DNS:db"; else san="DNS:localhost,IP:127.0.0.1,DNS:guard"; fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$name" -keyout "$name.key" -out "$name.csr"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 365 -extfile "$name.ext" -out "$name.crt"
  rm -f "$name.csr" "$name.ext"
done
rm -f ca.key ca.srl
# PostgreSQL (uid 999 in the postgres image) and the gateway (65532) each
# own their key; the certificates are public.
chown 999:999 db.key
chown 65532:65532 guard.key
chmod 600 db.key guard.key
chmod 644 ca.crt db.crt guard.crt
