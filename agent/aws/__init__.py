"""The AWS control plane (DESIGN §2): read-only boto3 reads of the VPC, and their comparison with the topology.

Importing this package (or any module of it but `clients`' functions) never imports boto3: the SDK costs
~200 ms and the data plane does not need it (DESIGN §9). boto3 is imported when the first client is made.
"""
