#!/usr/bin/env bash
# The baseline of tests/bench/provision: the seed stack's resources created and deleted step by
# step with the AWS CLI, the way a folder of shell scripts does it (one call after another,
# polling with `sleep 1`). Prints "up <seconds> <calls>" and "down <seconds> <calls>".
# Needs the local AWS (localstack/start) and its AWS CLI (localstack/.venv/bin/aws).
set -euo pipefail
cd "$(dirname "$0")/../.."
AWS_BIN=localstack/.venv/bin/aws
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
EP="--endpoint-url ${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
S="cli$$"
# Calls are counted in a file: most run inside $(...) subshells.
COUNT=$(mktemp)
trap 'rm -f "$COUNT"' EXIT
aws() { echo >>"$COUNT"; "$AWS_BIN" $EP "$@"; }
calls() { wc -l <"$COUNT" | tr -d ' '; }
q() { aws "$@" --output text; }
TAGS="Tags=[{Key=pipectl:stack,Value=$S}]"
until_eq() { # until_eq WANT CMD...: poll once a second until CMD prints WANT
  local want=$1; shift
  for _ in $(seq 1 120); do [ "$(q "$@")" = "$want" ] && return 0; sleep 1; done
  echo "timed out waiting for $want: $*" >&2; return 1
}
until_gone() { # until_gone CMD...: poll until CMD prints nothing (or None, or Batch's DELETED)
  for _ in $(seq 1 120); do local o; o=$(q "$@"); [ -z "$o" ] || [ "$o" = None ] || [ "$o" = DELETED ] && return 0; sleep 1; done
  echo "timed out waiting for deletion: $*" >&2; return 1
}

t0=$(date +%s.%N)
VPC=$(q ec2 create-vpc --cidr-block 10.41.0.0/16 --tag-specifications "ResourceType=vpc,$TAGS" --query Vpc.VpcId)
aws ec2 modify-vpc-attribute --vpc-id "$VPC" --enable-dns-hostnames
SA=$(q ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.41.0.0/20 --availability-zone us-east-1a --query Subnet.SubnetId)
SB=$(q ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.41.16.0/20 --availability-zone us-east-1b --query Subnet.SubnetId)
SP=$(q ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.41.32.0/20 --availability-zone us-east-1a --query Subnet.SubnetId)
IGW=$(q ec2 create-internet-gateway --query InternetGateway.InternetGatewayId)
aws ec2 attach-internet-gateway --internet-gateway-id "$IGW" --vpc-id "$VPC"
RTP=$(q ec2 create-route-table --vpc-id "$VPC" --query RouteTable.RouteTableId)
aws ec2 create-route --route-table-id "$RTP" --destination-cidr-block 0.0.0.0/0 --gateway-id "$IGW" >/dev/null
aws ec2 associate-route-table --route-table-id "$RTP" --subnet-id "$SP" >/dev/null
EIP=$(q ec2 allocate-address --domain vpc --query AllocationId)
NAT=$(q ec2 create-nat-gateway --subnet-id "$SP" --allocation-id "$EIP" --query NatGateway.NatGatewayId)
until_eq available ec2 describe-nat-gateways --nat-gateway-ids "$NAT" --query 'NatGateways[0].State'
RT=$(q ec2 create-route-table --vpc-id "$VPC" --query RouteTable.RouteTableId)
aws ec2 create-route --route-table-id "$RT" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "$NAT" >/dev/null
aws ec2 associate-route-table --route-table-id "$RT" --subnet-id "$SA" >/dev/null
aws ec2 associate-route-table --route-table-id "$RT" --subnet-id "$SB" >/dev/null
SG=$(q ec2 create-security-group --group-name "$S-batch" --description batch --vpc-id "$VPC" --query GroupId)
aws ec2 authorize-security-group-ingress --group-id "$SG" --ip-permissions "IpProtocol=-1,UserIdGroupPairs=[{GroupId=$SG}]" >/dev/null
TRUST_B='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"batch.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
TRUST_E='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
SVC=$(q iam create-role --role-name "$S-svc" --assume-role-policy-document "$TRUST_B" --query Role.Arn)
aws iam attach-role-policy --role-name "$S-svc" --policy-arn arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole
aws iam create-role --role-name "$S-inst" --assume-role-policy-document "$TRUST_E" >/dev/null
aws iam attach-role-policy --role-name "$S-inst" --policy-arn arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role
PROF=$(q iam create-instance-profile --instance-profile-name "$S-inst" --query InstanceProfile.Arn)
aws iam add-role-to-instance-profile --instance-profile-name "$S-inst" --role-name "$S-inst"
# Lustre 2.15: FSx's default 2.10 refuses data repository associations
FS=$(q fsx create-file-system --file-system-type LUSTRE --file-system-type-version 2.15 --storage-capacity 1200 --subnet-ids "$SA" --security-group-ids "$SG" --lustre-configuration DeploymentType=SCRATCH_2 --query FileSystem.FileSystemId)
ACCT=$(q sts get-caller-identity --query Account)
for b in input-data model-weights results documentation; do
  B="$S-$b-$ACCT"
  aws s3api create-bucket --bucket "$B" >/dev/null
  aws s3api put-public-access-block --bucket "$B" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  aws s3api put-bucket-encryption --bucket "$B" --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BucketKeyEnabled":true}]}'
  aws s3api put-bucket-ownership-controls --bucket "$B" --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
  aws s3api put-bucket-policy --bucket "$B" --policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::$B\",\"arn:aws:s3:::$B/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"
  aws s3api put-bucket-tagging --bucket "$B" --tagging "TagSet=[{Key=pipectl:stack,Value=$S}]"
done
until_eq AVAILABLE fsx describe-file-systems --file-system-ids "$FS" --query 'FileSystems[0].Lifecycle'
DRAS=()
for p in input-data:/input model-weights:/models results:/results; do
  D=$(q fsx create-data-repository-association --file-system-id "$FS" --file-system-path "${p#*:}" --data-repository-path "s3://$S-${p%%:*}-$ACCT/" --query Association.AssociationId)
  until_eq AVAILABLE fsx describe-data-repository-associations --association-ids "$D" --query 'Associations[0].Lifecycle'
  DRAS+=("$D")
done
LTD='{"MetadataOptions":{"HttpTokens":"required","HttpPutResponseHopLimit":2},"BlockDeviceMappings":[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":100,"VolumeType":"gp3","Encrypted":true}}]}'
# New roles are not usable by Batch at once: a script waits for IAM to propagate (as long as
# the local AWS is configured to take) before the compute environments validate them.
sleep "$(curl -fsS http://127.0.0.1:4566/_pipectl/config | python3 -c 'import json,sys; print(json.load(sys.stdin)["delays"]["iam_propagation"])')"
for ce in training-spot:SPOT:g4dn.xlarge:16 inference-ondemand:EC2:g3s.xlarge:8 documentation:EC2:t3.medium:4; do
  IFS=: read -r name type itype maxv <<<"$ce"
  LT=$(q ec2 create-launch-template --launch-template-name "$S-$name" --launch-template-data "$LTD" --query LaunchTemplate.LaunchTemplateId)
  extra=""; [ "$type" = SPOT ] && extra=",allocationStrategy=SPOT_PRICE_CAPACITY_OPTIMIZED"
  # g3s has no Batch-provided image: an AMI of one's own
  [ "$itype" = g3s.xlarge ] && extra="$extra,ec2Configuration=[{imageType=ECS_AL2023_NVIDIA,imageIdOverride=ami-0123456789abcdef0}]"
  aws batch create-compute-environment --compute-environment-name "$S-$name" --type MANAGED --service-role "$SVC" \
    --compute-resources "type=$type,minvCpus=0,maxvCpus=$maxv,instanceTypes=$itype,subnets=$SA,$SB,securityGroupIds=$SG,instanceRole=$PROF,launchTemplate={launchTemplateId=$LT,version=1}$extra" >/dev/null
  until_eq VALID batch describe-compute-environments --compute-environments "$S-$name" --query 'computeEnvironments[0].status'
done
prio=1
for qn in training:training-spot inference:inference-ondemand documentation:documentation; do
  aws batch create-job-queue --job-queue-name "$S-${qn%%:*}" --priority $prio --compute-environment-order "order=1,computeEnvironment=$S-${qn#*:}" >/dev/null
  until_eq VALID batch describe-job-queues --job-queues "$S-${qn%%:*}" --query 'jobQueues[0].status'
  prio=$((prio + 1))
done
for jd in training inference documentation; do
  aws batch register-job-definition --job-definition-name "$S-$jd" --type container --container-properties '{"image":"busybox","resourceRequirements":[{"type":"VCPU","value":"2"},{"type":"MEMORY","value":"2048"}]}' >/dev/null
done
aws cloudwatch put-dashboard --dashboard-name "pipectl-$S" --dashboard-body '{"widgets":[]}' >/dev/null
t1=$(date +%s.%N)
echo "up $(python3 -c "print(round($t1 - $t0, 2))") $(calls)"

: >"$COUNT"
t0=$(date +%s.%N)
aws fsx delete-file-system --file-system-id "$FS" >/dev/null
for qn in training inference documentation; do
  aws batch update-job-queue --job-queue "$S-$qn" --state DISABLED >/dev/null
  until_eq VALID batch describe-job-queues --job-queues "$S-$qn" --query 'jobQueues[0].status'
  aws batch delete-job-queue --job-queue "$S-$qn"
  until_gone batch describe-job-queues --job-queues "$S-$qn" --query 'jobQueues[0].status'
done
for name in training-spot inference-ondemand documentation; do
  aws batch update-compute-environment --compute-environment "$S-$name" --state DISABLED >/dev/null
  until_eq VALID batch describe-compute-environments --compute-environments "$S-$name" --query 'computeEnvironments[0].status'
  aws batch delete-compute-environment --compute-environment "$S-$name"
  until_gone batch describe-compute-environments --compute-environments "$S-$name" --query 'computeEnvironments[0].status'
  aws ec2 delete-launch-template --launch-template-name "$S-$name" >/dev/null
done
for jd in training inference documentation; do aws batch deregister-job-definition --job-definition "$S-$jd:1"; done
aws iam remove-role-from-instance-profile --instance-profile-name "$S-inst" --role-name "$S-inst"
aws iam delete-instance-profile --instance-profile-name "$S-inst"
aws iam detach-role-policy --role-name "$S-inst" --policy-arn arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role
aws iam delete-role --role-name "$S-inst"
aws iam detach-role-policy --role-name "$S-svc" --policy-arn arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole
aws iam delete-role --role-name "$S-svc"
for b in input-data model-weights results documentation; do aws s3api delete-bucket --bucket "$S-$b-$ACCT"; done
aws cloudwatch delete-dashboards --dashboard-names "pipectl-$S"
until_gone fsx describe-file-systems --query "FileSystems[?FileSystemId=='$FS'].Lifecycle"
aws ec2 delete-nat-gateway --nat-gateway-id "$NAT" >/dev/null
until_eq deleted ec2 describe-nat-gateways --nat-gateway-ids "$NAT" --query 'NatGateways[0].State' || true
aws ec2 release-address --allocation-id "$EIP"
aws ec2 detach-internet-gateway --internet-gateway-id "$IGW" --vpc-id "$VPC"
aws ec2 delete-internet-gateway --internet-gateway-id "$IGW"
for rt in "$RT" "$RTP"; do
  for a in $(q ec2 describe-route-tables --route-table-ids "$rt" --query 'RouteTables[0].Associations[].RouteTableAssociationId'); do aws ec2 disassociate-route-table --association-id "$a"; done
  aws ec2 delete-route-table --route-table-id "$rt"
done
aws ec2 delete-security-group --group-id "$SG"
for s in "$SA" "$SB" "$SP"; do aws ec2 delete-subnet --subnet-id "$s"; done
aws ec2 delete-vpc --vpc-id "$VPC"
t1=$(date +%s.%N)
echo "down $(python3 -c "print(round($t1 - $t0, 2))") $(calls)"
