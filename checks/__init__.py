"""The data plane: async probes, one module per kind (dns, tcp, tls, http), each an async function over a
frozen spec returning a frozen result. No AWS SDK here; network failures are results, never exceptions.
What to probe, in which order and under which bounds is vpc_verify.observe's; what the results mean is
vpc_verify.judge's.
"""
