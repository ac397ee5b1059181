"""Self-tests of the test bed's real-VPC parts (tests/testbed): the patched emulator, the seeded shapes, authdns,
the box's parts, the Lambda sandbox and the instance metadata stand-in.

Run time (2 cores shared with other work, load average about 7): about 35 s for this folder and 30 s for
tests/e2e/test_real_vpc.py (the failing-first tests of issues 11 and 12); about 27 s of CPU for both together.
"""
