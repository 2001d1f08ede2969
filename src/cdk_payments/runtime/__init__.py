"""Lambda handler code, shipped as the functions' asset.

Nothing here imports aws_cdk or the rest of cdk_payments: Lambda runs it with the standard library,
boto3 and the Powertools for AWS Lambda layer only.
"""
