#!/usr/bin/env bash
# `make deploy-web ENV=dev|prod`: web/dist (already built) to the stack's bucket, with the
# config.json written from the stack's outputs, then a CloudFront invalidation.
# Needs the AWS CLI and credentials for the stack's account; the stack is helpdesk-<ENV>
# (samconfig.toml), deployed first with `sam deploy --config-env <ENV>`.
set -euo pipefail
env=${1:?usage: deploy.sh dev|prod}
case "$env" in dev | prod) ;; *) echo "ENV must be dev or prod" >&2; exit 2 ;; esac
stack="helpdesk-$env"
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-eu-west-1}}
dist_dir="$(cd "$(dirname "$0")/.." && pwd)/dist"

output() {
  aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

api_url=$(output ApiUrl)
bucket=$(output WebBucketName)
distribution=$(output WebDistributionId)
cognito_domain=$(output WebCognitoDomain)
cognito_issuer=$(output WebCognitoIssuer)
client_id=$(output WebClientId)
host=$(aws cloudfront get-distribution --id "$distribution" --query Distribution.DomainName --output text)
app_url="https://$host/app/"

API_URL="$api_url" COGNITO_DOMAIN="$cognito_domain" COGNITO_ISSUER="$cognito_issuer" \
CLIENT_ID="$client_id" APP_URL="$app_url" node -e '
const e = process.env;
process.stdout.write(JSON.stringify({
  apiUrl: e.API_URL, authMode: "cognito", cognitoDomain: e.COGNITO_DOMAIN,
  cognitoIssuer: e.COGNITO_ISSUER, clientId: e.CLIENT_ID,
  redirectUri: e.APP_URL + "callback", logoutUri: e.APP_URL,
}, null, 2) + "\n");' > "$dist_dir/config.json"
echo "config.json for $app_url:" && cat "$dist_dir/config.json"

# Hashed assets are immutable (old ones stay, for pages still open); index.html and config.json
# are revalidated on every load.
aws s3 sync "$dist_dir/assets/" "s3://$bucket/app/assets/" --region "$region" \
  --cache-control "public, max-age=31536000, immutable"
aws s3 sync "$dist_dir/" "s3://$bucket/app/" --region "$region" --exclude "assets/*" \
  --cache-control "no-cache" --delete
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/app/*" "/" \
  --query Invalidation.Id --output text
echo "deployed: $app_url"
