#!/usr/bin/env bash
# Creates a development CA and the certificates the demo stack needs, with
# OpenSSL: ECDSA P-256 keys (cheap handshakes for many gateway sessions),
# SHA-256 signatures, a 10-year CA and 1-year leaf certificates.
#
#   tools/make_dev_certs.sh [OUT_DIR] [GATEWAY_ID...]
#
# OUT_DIR defaults to demo-data/certs. Writes ca.pem/ca.key, mgmt.pem/key,
# cloud.pem/key (server certs for 127.0.0.1, localhost and the compose service
# names, plus SAN URI relay-service://mgmt|cloud: the services recognise each
# other by it), and one client certificate per gateway id (CN and SAN URI
# relay-gateway://<id>: the management server takes the gateway's identity
# from its certificate). Existing files are kept, so it is safe to run again;
# a leaf certificate that lacks its identity URI (made by an older version of
# this script) is issued again. Extra server names: RELAY_CERT_HOSTS="DNS:relay.example.com,IP:10.0.0.5".
set -euo pipefail
OUT="${1:-demo-data/certs}"
shift || true
GATEWAYS=("$@")
[ ${#GATEWAYS[@]} -gt 0 ] || GATEWAYS=(gw-demo)
mkdir -p "$OUT"
chmod 700 "$OUT"
cd "$OUT"

key() { [ -f "$1" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

if [ ! -f ca.pem ]; then
  key ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=Cloud Relay Dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
  echo "created CA: $OUT/ca.pem"
fi

leaf() {  # leaf NAME SUBJECT_CN SAN EXTENDED_KEY_USAGE
  local name="$1" cn="$2" san="$3" eku="$4"
  local uri="${san##*URI:}"
  if [ -f "$name.pem" ]; then
    if openssl x509 -in "$name.pem" -noout -ext subjectAltName 2>/dev/null | grep -qF "URI:$uri"; then
      return 0
    fi
    echo "re-issuing $name: its certificate lacks URI:$uri"
    rm -f "$name.pem"
  fi
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -sha256 \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' "$san" "$eku") \
    -out "$name.pem" 2>/dev/null
  rm -f "$name.csr"
  echo "created $name: $OUT/$name.pem ($cn)"
}

SERVER_SAN="DNS:localhost,IP:127.0.0.1,IP:::1${RELAY_CERT_HOSTS:+,$RELAY_CERT_HOSTS}"
leaf mgmt "relay-mgmt" "$SERVER_SAN,DNS:mgmt,URI:relay-service://mgmt" "serverAuth,clientAuth"
leaf cloud "relay-cloud" "$SERVER_SAN,DNS:cloud,URI:relay-service://cloud" "serverAuth,clientAuth"
for id in "${GATEWAYS[@]}"; do
  leaf "gateway-$id" "$id" "URI:relay-gateway://$id" "clientAuth"
done
