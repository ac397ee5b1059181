"""Pure evaluators of AWS network configuration: "is this 5-tuple admitted, and by which rule?"

Each module takes frozen facts (vpc_verify.aws.model) and answers one question with the rules that decided
it; judgment rules (vpc_verify.judge) turn the answers into findings.
"""
