"""The AWS control plane (docs/architecture.md): read-only boto3 reads of the VPC, as frozen facts.

Importing this package (or any module of it but `clients`' functions) never imports boto3: the SDK costs
~200 ms and the data plane does not need it. boto3 is imported when the first client is made.
"""
