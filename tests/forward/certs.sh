#!/bin/bash
# Self-signed test CA + server certificate for 127.0.0.1/localhost (openssl CLI).
# usage: certs.sh DIR  -> DIR/ca.pem DIR/ca.key DIR/srv.pem DIR/srv.key
set -eu
d=$1
mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=admin-audit test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$d/srv.key" -out "$d/srv.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$d/ext.cnf"
openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/ext.cnf" -out "$d/srv.pem" 2>/dev/null
# a second, unrelated CA: verification against it must fail
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
    -keyout "$d/other.key" -out "$d/other.pem" 2>/dev/null
chmod 600 "$d"/*.key
