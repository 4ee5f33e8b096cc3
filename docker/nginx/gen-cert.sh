#!/bin/sh
# 動作確認用の自己署名証明書を、まだ無いときだけ作ります（docker-compose.yml の certs サービスが実行）。
#
#   対象:   ${AKAGI_BASE_DOMAIN} と *.${AKAGI_BASE_DOMAIN}（各利用団体は <識別子>.<ベースドメイン>）
#   出力先: ${CERT_DIR:-/certs}/fullchain.pem と privkey.pem（nginx は /etc/nginx/certs/ として読みます）
#
# 既に両方のファイルがあれば何もしません。組織の証明書に差し替えた後も上書きしません。
set -eu

domain="${AKAGI_BASE_DOMAIN:?AKAGI_BASE_DOMAIN が設定されていません}"
dir="${CERT_DIR:-/certs}"
cert="$dir/fullchain.pem"
key="$dir/privkey.pem"

if [ -s "$cert" ] && [ -s "$key" ]; then
    echo "gen-cert: 既存の証明書を使います（$cert）。"
    exit 0
fi

# alpine イメージに openssl コマンドは入っていません。作るときだけ追加します。
if ! command -v openssl >/dev/null 2>&1; then
    apk add --no-cache openssl >/dev/null
fi

mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.gen-cert.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# CA:FALSE を明示: 既定（CA:TRUE）のままだと Firefox は「CA 証明書をサーバー証明書に使っている」として拒否します。
openssl req -x509 -nodes -newkey rsa:2048 -sha256 -days 825 \
    -keyout "$tmp/privkey.pem" \
    -out "$tmp/fullchain.pem" \
    -subj "/CN=$domain" \
    -addext "subjectAltName=DNS:$domain,DNS:*.$domain" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
    -addext "extendedKeyUsage=serverAuth"

chmod 600 "$tmp/privkey.pem"
chmod 644 "$tmp/fullchain.pem"
# 鍵を先に置き、証明書を最後に置く: 途中で止まっても「証明書だけある」状態にはならず、次回作り直します。
mv "$tmp/privkey.pem" "$key"
mv "$tmp/fullchain.pem" "$cert"

echo "gen-cert: 自己署名証明書を作成しました（$domain, *.$domain、有効期間 825 日）。"
echo "gen-cert: 本番では組織の証明書に差し替えてください（docs/deploy.md）。"
