"""pipectl's LocalStack extension.

Adds, on LocalStack's port: AWS Batch and FSx for Lustre (moto's backends, made to see
LocalStack's IAM), resource lifecycles that take time on a configurable clock, Batch jobs that
run their command as a host process with logs in CloudWatch Logs, EC2 placement groups, the
instance types pipectl's specs use that moto lacks, and seeded fault injection.
"""
