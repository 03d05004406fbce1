"""The HTTP API's routers, one per resource, and what they share (errors, schemas, caller).

functions/api/app.py is the Lambda handler that wires them into one resolver. They live in the
domain layer, next to what they call, so they have one module name everywhere (Lambda, tests,
the local stack): `helpdesk.entrypoints.http`.
"""
