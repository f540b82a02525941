"""An IoT gateway simulator for Nara that feeds an NGSI-LD broker (an example for Kaido).

    .venv/bin/python -m examples.gateway --url http://localhost:1026 --duration 60

Modules: city (the places), entities (the NGSI-LD payloads, shaped by models/),
simulation (the sensors), sender (batch upserts with retries), gateway (the loop and the
command line).
"""
