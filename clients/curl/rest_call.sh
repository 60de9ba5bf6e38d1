#!/usr/bin/env bash
# One REST call to the platform with curl, the spec's headers (spec §4.1) and, given a
# registration code, the message crypto of DECISIONS §3 done with the `openssl` command line.
# The platform's interop tests drive it (test/interop/curl-rest.test.ts).
#
#   rest_call.sh <url> <label> [<registrationCode>] < payload.json
#
#   url    e.g. http://127.0.0.1:8080/rest/Standard/meter/meterSuspend
#   label  printed back first, e.g. the operation's name
#
# Without a registration code the body is the JSON and DisperseKey and MacValue go out empty
# (plaintext, DECISIONS §3.5). With one, the body is EncryptData under a fresh DisperseKey, and
# the answer's MAC (its DisperseKey and MacValue headers) is verified before it is decrypted.
# Prints one line:
#
#   label<TAB>HTTP status<TAB>kind<TAB>answer DisperseKey<TAB>sent DisperseKey<TAB>answer JSON
#
# kind: "plain", "verified", "refused <code>" (DECISIONS §3.8) or "fault <message>".
# OpenSSL 3 offers single DES only in its legacy provider, so single DES under K runs as two-key
# 3DES under K‖K (the same cipher). The MAC comparison here is not constant-time: a shell has no
# such primitive; a real CIS compares with one (docs/security.md §5).
set -euo pipefail

readonly ZERO_IV=0000000000000000

main() {
  if [ "$#" -lt 2 ]; then
    echo "usage: rest_call.sh <url> <label> [<registrationCode>] < payload.json" >&2
    exit 2
  fi
  local url=$1 label=$2 code=${3:-}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT

  cat >"$work/payload"
  local sent_key='' mac=''
  if [ -n "$code" ]; then
    sent_key=$(disperse_key)
    encrypt "$code" "$sent_key" <"$work/payload" >"$work/body"
    mac=$(mac_of "$(mac_key "$code" "$sent_key")" <"$work/ciphertext")
  else
    cp "$work/payload" "$work/body"
  fi

  local status
  status=$(curl -sS -X POST "$url" \
    -H 'Content-Type: text/html;charset=utf-8' \
    -H "$(header_argument DisperseKey "$sent_key")" -H "$(header_argument MacValue "$mac")" \
    --data-binary @"$work/body" -D "$work/headers" -o "$work/answer" -w '%{http_code}' 2>"$work/error") ||
    { printf '%s\t\tfault %s\t\t%s\t\n' "$label" "$(tr '\n\t' '  ' <"$work/error")" "$sent_key"; return; }
  local answer_key answer_mac
  answer_key=$(header DisperseKey)
  answer_mac=$(header MacValue)

  if [ -z "$answer_key" ] && [ -z "$answer_mac" ]; then
    printf '%s\t%s\tplain\t\t%s\t%s\n' "$label" "$status" "$sent_key" "$(one_line <"$work/answer")"
  elif [ -z "$code" ]; then
    printf '%s\t%s\trefused encrypted answer to a plaintext request\t%s\t\t\n' "$label" "$status" "$answer_key"
  else
    local refusal
    if refusal=$(verify_and_decrypt "$code" "$answer_key" "$(cat "$work/answer")" "$answer_mac" 2>&1 >"$work/json"); then
      printf '%s\t%s\tverified\t%s\t%s\t%s\n' "$label" "$status" "$answer_key" "$sent_key" "$(one_line <"$work/json")"
    else
      printf '%s\t%s\trefused %s\t%s\t%s\t\n' "$label" "$status" "$refusal" "$answer_key" "$sent_key"
    fi
  fi
}

# curl's -H argument; "Name;" makes curl send the header with an empty value (plaintext mode).
header_argument() {
  if [ -z "$2" ]; then printf '%s;' "$1"; else printf '%s: %s' "$1" "$2"; fi
}

# The value of a response header, case-insensitively, without its line end.
header() {
  awk -v name="$1" 'BEGIN { IGNORECASE = 1 } {
    split($0, parts, ":"); if (tolower(parts[1]) == tolower(name)) {
      sub(/^[^:]*:[ \t]*/, ""); sub(/\r$/, ""); print; exit } }' "$work/headers"
}

one_line() { tr '\t\r\n' '   '; }

hex_of() { od -An -vtx1 | tr -d ' \n' | tr 'a-f' 'A-F'; }

bytes_of() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")"; }

# 16 decimal digits from the CSPRNG; bytes of 250 and more are dropped so that no digit is favoured.
disperse_key() {
  local digits='' byte
  while [ "${#digits}" -lt 16 ]; do
    for byte in $(openssl rand 32 | od -An -vtu1); do
      if [ "$byte" -lt 250 ] && [ "${#digits}" -lt 16 ]; then digits+=$((byte % 10)); fi
    done
  done
  printf '%s' "$digits"
}

# 3DES-ECB under a 16-byte key (hex) of whole blocks on stdin.
ecb() { openssl enc -des-ede-ecb -K "$1" -nopad -nosalt; }

xor_hex() {
  local left=$1 right=$2 result='' i
  for ((i = 0; i < ${#left}; i += 2)); do
    result+=$(printf '%02X' $((16#${left:i:2} ^ 16#${right:i:2})))
  done
  printf '%s' "$result"
}

# PBOC / EMV option A: 3DES-ECB(MK, D) ‖ 3DES-ECB(MK, D xor FF..FF), D = the digits read as hex.
session_key() {
  local master=$1 block=$2
  printf '%s%s' "$(bytes_of "$block" | ecb "$master" | hex_of)" \
    "$(bytes_of "$(xor_hex "$block" FFFFFFFFFFFFFFFF)" | ecb "$master" | hex_of)"
}

encryption_key() { session_key "${1:0:32}" "$2"; }
mac_key() { session_key "${1:32:32}" "$2"; }

# EncryptData of stdin; the ciphertext bytes are kept in $work/ciphertext for the MAC.
encrypt() {
  openssl enc -des-ede-cbc -K "$(encryption_key "$1" "$2")" -iv "$ZERO_IV" -nosalt >"$work/ciphertext"
  openssl base64 -A <"$work/ciphertext"
}

# ISO/IEC 9797-1 MAC algorithm 3 (retail MAC), padding method 2, of the bytes on stdin.
mac_of() {
  local key=$1 padded="$work/mac-input" size
  { cat; printf '\x80'; } >"$padded"
  size=$(stat -c %s "$padded")
  head -c $(((8 - size % 8) % 8)) /dev/zero >>"$padded"
  size=$(stat -c %s "$padded")

  local chain=$ZERO_IV last
  last=$(tail -c 8 "$padded" | hex_of)
  if [ "$size" -gt 8 ]; then
    chain=$(head -c $((size - 8)) "$padded" |
      openssl enc -des-ede-cbc -K "${key:0:16}${key:0:16}" -iv "$ZERO_IV" -nopad -nosalt | tail -c 8 | hex_of)
  fi
  bytes_of "$(xor_hex "$last" "$chain")" | ecb "$key" | hex_of
}

# Checks the MAC, then decrypts to stdout; on failure prints the code of DECISIONS §3.8 to stderr.
verify_and_decrypt() {
  local code=$1 key=$2 data=$3 mac=$4
  if ! [[ $key =~ ^[0-9]{16}$ && $mac =~ ^[0-9A-Fa-f]{16}$ ]]; then echo 80003001 >&2; return 1; fi
  printf '%s' "$data" | openssl base64 -d -A >"$work/answer-ciphertext" 2>/dev/null || true
  if [ "$(openssl base64 -A <"$work/answer-ciphertext")" != "$data" ] || [ ! -s "$work/answer-ciphertext" ]; then
    echo 80003002 >&2; return 1
  fi
  if [ "$(mac_of "$(mac_key "$code" "$key")" <"$work/answer-ciphertext")" != "${mac^^}" ]; then
    echo 80003001 >&2; return 1
  fi
  openssl enc -d -des-ede-cbc -K "$(encryption_key "$code" "$key")" -iv "$ZERO_IV" -nosalt \
    <"$work/answer-ciphertext" 2>/dev/null || { echo 80003002 >&2; return 1; }
}

main "$@"
