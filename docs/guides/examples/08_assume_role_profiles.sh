#!/bin/sh
# AWS CLI profiles that assume Admin's roles: the CLI calls STS itself.
set -eu
MGMT=$(aws sts get-caller-identity --query Account --output text)
MFA_SERIAL=$(python -c 'import json; print(json.load(open("accounts.json"))["mfa_serial"])')
CONFIG=${AWS_CONFIG_FILE:-$HOME/.aws/config}
cat >> "$CONFIG" <<INI

[profile e-reader]
role_arn = arn:aws:iam::$MGMT:role/CloudTrailReader-E
source_profile = e-user

[profile r-analyzer]
role_arn = arn:aws:iam::$MGMT:role/CloudTrailReader-R
source_profile = r-user
external_id = R-analyzer-7f3c2a

[profile d-reader]
role_arn = arn:aws:iam::$MGMT:role/CloudTrailReader-D
source_profile = d-user
mfa_serial = $MFA_SERIAL
INI
aws sts get-caller-identity --profile e-reader --query Arn --output text
aws sts get-caller-identity --profile r-analyzer --query Arn --output text
aws s3api list-objects-v2 --bucket trail-bucket --profile r-analyzer \
    --query 'length(Contents || `[]`)' --output text
# d-reader asks "Enter MFA code for ...:"; the code is piped in here (from the next 30 s
# window, so that it was not used before: AWS refuses a code twice).
python -c 'import json, time, pyotp
seed = json.load(open("accounts.json"))["mfa_seed"]
time.sleep(31 - time.time() % 30)
print(pyotp.TOTP(seed).at(time.time() + 30))' |
    aws sts get-caller-identity --profile d-reader --query Arn --output text
